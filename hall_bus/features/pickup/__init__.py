"""24-hour self-service pickup (24小时自助出件) with smart lockers.

* :mod:`.config`    ``[pickup]`` settings and ``[[lockers]]`` banks from hall.toml
* :mod:`.store`     items, sessions, used transaction ids, attempt counters, the append-only audit
* :mod:`.security`  pickup codes (stored as keyed hashes), signed QR tokens, the per-hall secret
* :mod:`.lockers`   the controller's port to the locker hosts on the bus
* :mod:`.notify`    the notification adapter (SMS gateway out of scope; logging implementation)
* :mod:`.records`   item rows, audit, events, views, codes and notifications (shared by the two below)
* :mod:`.service`   deposit, pickup, return and the manager's views (request handlers)
* :mod:`.worker`    the locker worker: opens, door watching, alarms, crash resume
* :mod:`.contracts` bus contracts
"""

"""帮办代办: mandates (委托单), their 回执 and the ledger (台账)."""

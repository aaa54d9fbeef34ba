"""Settings files: an unknown key or table is an error naming the file, its line and the nearest known key."""

from __future__ import annotations

import pytest

from audit.config import TABLES, TOP_KEYS, load_settings, where
from audit.errors import UserError
from audit.extract.reader import READ_SETTINGS


def _load(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def test_known_keys_load_and_remember_their_file(tmp_path):
    settings = _load(tmp_path, "audit.toml", 'select = ["ALL"]\nfail_on = "warning"\n[columns]\nepisode_id = "X"\n'
                                             '[options]\nanything_goes = true\n[severity]\n"IPG406-02" = "info"\n')
    assert settings["select"] == ["ALL"] and settings.path.name == "audit.toml"
    assert where(settings, "columns") == "audit.toml [columns]"
    pyproject = _load(tmp_path, "pyproject.toml", '[project]\nname = "x"\n[tool.audit]\nignore = ["IPG446"]\n')
    assert where(pyproject, "columns") == "pyproject.toml [tool.audit.columns]"
    assert where({}, "extract") == "[tool.audit.extract]"  # not read from a file


def test_a_pyproject_without_the_table_has_no_settings(tmp_path):
    assert _load(tmp_path, "pyproject.toml", '[project]\nname = "x"\n') == {}


@pytest.mark.parametrize("name, text, said", [
    ("audit.toml", 'select = ["ALL"]\nfailon = "never"\n', "audit.toml:2: unknown key 'failon'; did you mean fail-on?"),
    ("audit.toml", "[column]\n", "audit.toml:1: unknown table [column]; did you mean [columns]?"),
    ("audit.toml", '[extract]\nsheet = "1"\ndelimter = ","\n',
     "audit.toml:3: unknown key 'delimter' in [extract]; did you mean delimiter?"),
    ("pyproject.toml", '[tool.audit]\nmax_finding = 3\n',
     "pyproject.toml:2: unknown key 'max_finding'; did you mean max-findings?"),
    ("pyproject.toml", '[tool.audit.severities]\n"X" = "info"\n',
     "pyproject.toml:1: unknown table [tool.audit.severities]; did you mean [tool.audit.severity]?"),
    ("audit.toml", 'zzz = 1\n', "unknown key 'zzz' (known: select, ignore"),
    ("audit.toml", 'columns = "EPIKEY"\n', "audit.toml:1: columns must be a table ([columns])"),
])
def test_unknown_keys_and_tables(tmp_path, name, text, said):
    with pytest.raises(UserError) as caught:
        _load(tmp_path, name, text)
    assert said in str(caught.value)


def test_the_extract_table_lists_what_the_reader_reads():
    assert TABLES["extract"] == READ_SETTINGS
    assert "extend-rules" in TOP_KEYS

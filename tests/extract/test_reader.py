"""``audit.extract.reader``: the [tool.audit.extract] settings (reading itself: test_formats, test_layouts...)."""

import pytest

from audit.errors import UserError
from audit.extract.reader import settings_read_options


def test_extract_settings_are_read_options():
    assert settings_read_options({}) == {}
    assert settings_read_options({"extract": {"layout": "long", "delimiter": "pipe"}}) == {
        "layout": "long",
        "delimiter": "pipe",
    }


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("wide", r"\[tool.audit.extract\] must be a table"),
        ({"delimeter": ","}, r"unknown setting 'delimeter' \(settings: layout, encoding"),
        ({"layout": "diagonal"}, "layout: 'diagonal' is not one of wide, long, concatenated"),
    ],
)
def test_bad_extract_settings_say_what_is_wrong(table, message):
    with pytest.raises(UserError, match=message):
        settings_read_options({"extract": table})

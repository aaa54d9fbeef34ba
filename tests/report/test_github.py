from audit.report.github import escape_data, escape_property, lines


def test_escaping():
    assert escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_one_annotation_per_finding(sample_result):
    out = lines(sample_result)
    assert len(out) == len(sample_result.findings) + 1  # and one for the rows set aside
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in out)
    assert all("\n" not in line for line in out)
    assert out[0].startswith("::error file=" + sample_result.path + ",line=3,title=IPG327-01 (IPG327)::episode 1002: ")
    assert sum(line.startswith("::notice ") for line in out) == sample_result.count("info")
    assert "title=DATA-01 (NHS Data Dictionary)" in "".join(out)

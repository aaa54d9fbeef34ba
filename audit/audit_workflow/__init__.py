"""The coding audit itself: sample audited episodes, let an auditor re-code them, score the original coding
against the re-coding.

- ``episodes``: an extract's audited episodes (those the pipeline audits: not rejected, not uncoded) as plain
  text frames, read a chunk at a time;
- ``sample``: which episodes are sampled (random, stratified, weighted by findings) and each one's inclusion
  probability;
- ``workbook``: the sample workbook the auditor fills in (it reads back as an extract);
- ``score``: the four areas, error types, breakdowns, Wilson intervals and levels of attainment;
- ``precision``: which rules' findings the auditor confirms;
- ``reports``: JSON, HTML and Excel reports of a score;
- ``commands``: ``audit sample`` and ``audit score``.
"""

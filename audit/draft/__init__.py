"""Drafting a ruleset from the text of a NICE guidance page (``audit rules draft``).

``phrasing`` reads the page's coding recommendations into requirements; ``writer`` writes them as a rule
file of our language, with the comments a coding manager reviews before shipping it.
"""

from audit.draft.phrasing import Draft, read_guidance
from audit.draft.writer import draft_yaml

__all__ = ["Draft", "draft_yaml", "read_guidance"]

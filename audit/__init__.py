"""Clinical coding validation and audit engine for NHS episode data.

The package reads as the data flows: ``extract`` reads an episode extract,
``codes`` normalises ICD-10 / OPCS-4 values, ``episodes`` dictionary-encodes
each episode's ordered codes (and OPCS-4 blocks), ``rules`` loads declarative
YAML rules, ``engine`` evaluates them column-wise, ``report`` writes findings.
"""

__version__ = "0.1.0"

"""Seeded generator of synthetic HES Admitted Patient Care extracts (wide layout).

Every value is synthetic: the ICD-10- and OPCS-4-shaped code pools are drawn from a fixed internal seed
(a few real code values that the guidance rules name, such as C78.7 or J12.4, are included by design).

Rows are produced in fixed blocks of ``BLOCK_ROWS`` episodes; block ``b`` draws from its own random stream
``SeedSequence(seed, spawn_key=(b,))``, so the data (and the bytes written) for a given episode count and seed
do not depend on how many blocks are generated and written at a time.

About ``guidance_rate`` (0.5%) of the episodes are cases from the guidance rulesets (RFA of colorectal liver
metastases, irreversible electroporation, microwave ablation, electrochemotherapy), a third of them mis-coded.
Background episodes never carry J12.4, J12.7, J12.8, J08.3 or J03.2, so the expected findings of the engine's
four fixed rules follow from the scenario templates alone; they are written to ``<stem>.expected.json``.
The background follows the shipped national rulesets (``BACKGROUND_BANNED`` and the categories after it): a
clean extract breaks none of them, so a realistic one's findings are its injected errors.

Usage::

    python benchmarks/generate.py --episodes 1000000 --seed 42 --format both --out benchmarks/data/
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import coding_errors, hes
from benchmarks.coding_errors import DEFAULT_ERROR_RATE

GENERATOR_VERSION = 3  # 3: a background that follows every shipped national family; 2: coding errors; 1: none
BLOCK_ROWS = 65_536
ROW_GROUP_ROWS = 131_072
DEFAULT_CHUNK_ROWS = 524_288
DEFAULT_GUIDANCE_RATE = 0.005
POOL_SEED = 20_240_401
# Diagnosis categories the national coding standards restrict (position, companions, fifth character):
# background episodes are coded cleanly, as most real episodes are, so national rules fire rarely.
NATIONAL_SENSITIVE = frozenset(
    {"B95", "B96", "B97", "A40", "A41", "E10", "E14", "N18", "Z33", "Z38", "U07", "R65", "R69", "R96", "R98",
     "R99", "J96", "C77", "C97", "S02", "S06", "S12", "S22", "S32", "S42", "S52", "S62", "S72", "S82", "S92",
     "T02", "T08", "T10", "T12"}
)


def _categories(ranges: str) -> frozenset[str]:
    """The three-character categories of "A00-B99, I99": ranges may cross letters (S00-T98)."""
    out = set()
    for part in ranges.replace(" ", "").split(","):
        first, _, last = part.partition("-")
        last = last or first
        lo, hi = (ord(first[0]) - 65) * 100 + int(first[1:]), (ord(last[0]) - 65) * 100 + int(last[1:])
        out.update(f"{chr(65 + v // 100)}{v % 100:02d}" for v in range(lo, hi + 1))
    return frozenset(out)


# Generator version 3: the background is coded to every national family the shipped rulesets read, so that
# the realistic file's findings are its injected errors and guidance cases (one episode in ten), not random
# codes breaking rules (version 2 flagged 46% of its clean episodes with the 260 rules). Kept out of the
# background: injuries, poisonings and their sequelae (they need external causes, S00-T98), pregnancy and
# perinatal codes (obstetric context, O00-P96), musculoskeletal codes (chapter XIII takes a fifth character
# for the site, which the pools' four-character codes lack), and the categories below, each found by running
# the shipped rules over a clean background (companions, adverse effects, excludes pairs, symptoms).
BACKGROUND_BANNED = NATIONAL_SENSITIVE | _categories(
    "M00-M99, O00-P96, S00-T98, U00-U99, C81-C96, B90-B94, Z30-Z39, A09, A20, A47, A76, B07, B30, B50, "
    "B59, B75, C99, D09, D10, D14, D30, D59, D61, D63, D64, D69, D73, D74, D80, D88, D90, D95, E02, E06, "
    "E16, E23, E24, E27, E45, E56, E68, E75, E99, F00, F02, F03, F19, F32, F33, F87, G01, G02, G09, G21, "
    "G24, G25, G27, G38, G40, G44, G52, G59, G62, G63, G72, G80, G82, G95, G99, H19, H20, H28, H33, H36, "
    "H49, H57, H67, H87, H91, I03, I11, I12, I13, I20, I22, I23, I35, I44, I46, I50, I69, I70, I79, I83, "
    "I84, I87, I95, J06, J10, J11, J12, J13, J14, J15, J17, J22, J33, J43, J44, J58, J69, J70, J74, J78, "
    "J81, J95, K26, K27, K31, K43, K52, K56, K64, K85, L05, L10, L17, L22, L27, L30, L35, L49, L64, L80, "
    "L85, L95, L97, M10, N08, N10, N14, N20, N27, N28, N29, N30, N86, N98, P99, Q38, Q70, Q93, R03, R06, "
    "R07, R08, R10, R12, R20, R21, R22, R25, R33, R40, R50, R51, R56, R57, R68, R72, R83, R84, R85, R91, "
    "T99, Z21")
# Never the primary diagnosis in the background: Z codes (history, status, circumstances), I99, U codes.
NEVER_FIRST = _categories("Z00-Z99, U00-U99, I99")
# Sex-specific categories: a female-only code makes the patient female; male-only ones are kept out.
FEMALE_ONLY = _categories("N70-N98, C51-C58, D25-D28, O00-O99")
MALE_ONLY = _categories("N40-N51, C60-C63, D29")
# OPCS-4 blocks: laterality (Z94) where the national standards want it, never where they forbid it, and the
# main codes whose site or companion rules the background does not follow left out.
LATERALITY_REQUIRED = _categories("A65, B27-B41, C01-C99, E54, L84-L88, M02-M03, T19-T21, W37-W54, W82, "
                                  "W90, W93-W95")
LATERALITY_FORBIDDEN = _categories("G01-G99, H01-H99, J01-J99, K01-K99")
MAIN_BANNED = _categories(
    "A57, A73, U21, V22-V54, X70-X74, W82, G14, K35, H20, H21, M43, M44, M71, K62, W87, M10, J38, "
    "J39, J40, J44, M42, S07, K64, E48, L84, L85, G45, J41, J45, Q18, J11, J13, J14")
# Qualifiers that OPCS-4 excludes rules keep apart from other approaches (Y74 with Y49, Y75 with Y50,
# Y78 with Y53).
QUALIFIER_BANNED = _categories("Y74, Y75, Y78")
# Drawn by the guidance scenarios only (X72 delivery, Y12.3 electroporation): kept out of the background pools.
SCENARIO_ONLY = frozenset({"X721", "X722", "X723", "X724", "Y123"})
FY_START = np.datetime64("2024-04-01", "D")
FY_END = np.datetime64("2025-03-31", "D")
MAX_EPISODES = 10**12 - 1  # EPIKEYs are a permutation of the 12-digit numbers

PROVIDERS = np.array(["RXX01", "RXX02", "RXX03", "RXX04", "RXX05", "RXX06", "RXX07"])
PROVIDER_P = np.array([0.24, 0.20, 0.16, 0.14, 0.12, 0.08, 0.06])
SPECIALTIES = np.array(
    [
        "300",
        "100",
        "110",
        "420",
        "501",
        "502",
        "101",
        "120",
        "130",
        "301",
        "320",
        "340",
        "430",
        "800",
        "370",
        "180",
        "330",
        "810",
    ]
)
SPECIALTY_P = np.array(
    [
        0.18,
        0.12,
        0.09,
        0.07,
        0.08,
        0.05,
        0.05,
        0.04,
        0.05,
        0.06,
        0.05,
        0.04,
        0.05,
        0.03,
        0.03,
        0.06,
        0.02,
        0.03,
    ]
)
LIVER_SPECIALTIES = np.array(["100", "301", "810"])
SKIN_SPECIALTIES = np.array(["800", "330"])

DIAG_COUNT_MAX = len(hes.DIAG_COLUMNS)
PROC_SLOTS = len(hes.OPERTN_COLUMNS)
BLOCKS_P = np.array([0.45, 0.30, 0.13, 0.07, 0.05])  # procedure blocks per episode: 0..4 (<= 20 codes)
Y_COUNT_P = np.array([0.62, 0.30, 0.08])  # Y qualifiers per block: 0..2
Z_SITE_P = 0.25
LATERALITY_P = 0.12

SCHEMA = pa.schema(
    [
        ("EPIKEY", pa.string()),
        ("PROCODE", pa.string()),
        ("EPISTART", pa.date32()),
        ("EPIEND", pa.date32()),
        ("SEX", pa.int64()),
        ("STARTAGE", pa.int64()),
        ("MAINSPEF", pa.string()),
    ]
    + [(c, pa.string()) for c in hes.CODE_COLUMNS]
)


# --------------------------------------------------------------------------------------------- scenarios
@dataclass(frozen=True)
class Scenario:
    """A guidance case template: codes (with wildcards) and the fixed-rule findings it must raise."""

    name: str
    ruleset: str
    miscoded: bool
    weight: float  # within its ruleset
    diagnoses: str
    procedures: str
    findings: tuple[tuple[str, str], ...] = ()


# Wildcards: C18? any C18 code, C22! a C22 code other than C22.9, C43? melanoma, @D a neutral diagnosis
# (never C78.7 / C18 / C22); Y53? any Y53 code, Z?? a site code, Z94? laterality, X7?? an X70-X72 code,
# @M a background main procedure code (never J12.4 / J12.8).
RULESET_SHARE = {"IPG327": 0.40, "HTG532": 0.25, "IPG406": 0.20, "IPG446": 0.15}
E, W = "error", "warning"
SCENARIOS: tuple[Scenario, ...] = (
    # RFA of colorectal liver metastases (IPG327): J12.4 + Y53.- ; C78.7 and C18.-
    Scenario("rfa_ok", "IPG327", False, 0.47, "C787 C18?", "J124 Y53?"),
    Scenario("rfa_ok_c18_first", "IPG327", False, 0.10, "C18? C787", "J124 Y539"),
    Scenario("rfa_ok_hcc", "IPG327", False, 0.10, "C220", "J124 Y53?"),  # no C78.7/C18: rule 02 n/a
    Scenario("rfa_no_y53", "IPG327", True, 0.12, "C787 C18?", "J124", (("IPG327-01", E),)),
    Scenario("rfa_y53_next_block", "IPG327", True, 0.05, "C787 C18?", "J124 @M Y539", (("IPG327-01", E),)),
    Scenario("rfa_y53_prev_block", "IPG327", True, 0.03, "C787 C18?", "@M Y53? J124", (("IPG327-01", E),)),
    Scenario("rfa_no_c18", "IPG327", True, 0.06, "C787", "J124 Y539", (("IPG327-02", E),)),
    Scenario("rfa_no_c787", "IPG327", True, 0.04, "C18?", "J124 Y53?", (("IPG327-02", E),)),
    Scenario("rfa_no_y53_no_c18", "IPG327", True, 0.03, "C787", "J124", (("IPG327-01", E), ("IPG327-02", E))),
    # Irreversible electroporation (HTG532 primary liver cancer; IPG445 liver metastases): J12.8 + Y12.3 + Y53.-
    Scenario("ire_ok", "HTG532", False, 0.45, "C229", "J128 Y123 Y53?"),
    Scenario("ire_ok_y53_first", "HTG532", False, 0.05, "C229", "J128 Y53? Y123"),
    Scenario("ire_ok_metastases", "HTG532", False, 0.12, "C787 C18?", "J128 Y123 Y53?"),
    Scenario("ire_y123_other_block", "HTG532", False, 0.05, "C229", "J128 Y53? @M Y123"),  # not IRE
    Scenario("ire_no_y53", "HTG532", True, 0.10, "C229", "J128 Y123", (("HTG532-01", E),)),
    Scenario("ire_y53_next_block", "HTG532", True, 0.04, "C229", "J128 Y123 @M Y53?", (("HTG532-01", E),)),
    Scenario("ire_c22_other", "HTG532", True, 0.10, "C22!", "J128 Y123 Y53?", (("HTG532-02", W),)),
    Scenario("ire_no_c22", "HTG532", True, 0.06, "@D", "J128 Y123 Y53?", (("HTG532-02", E),)),
    Scenario(
        "ire_no_y53_c22_other",
        "HTG532",
        True,
        0.03,
        "C22!",
        "J128 Y123",
        (("HTG532-01", E), ("HTG532-02", W)),
    ),
    # Microwave ablation of liver metastases / HCC (IPG406, IPG214): no fixed rule
    Scenario("mwa_percutaneous", "IPG406", False, 0.30, "C787 C18?", "J127 Y53?"),
    Scenario("mwa_laparoscopic", "IPG406", False, 0.17, "C787 C18?", "J083"),
    Scenario("mwa_open", "IPG406", False, 0.13, "C787 C18?", "J032 Y137"),
    Scenario("mwa_hcc", "IPG406", False, 0.07, "C220", "J127 Y539"),
    Scenario("mwa_open_no_y137", "IPG406", True, 0.20, "C787 C18?", "J032"),
    Scenario("mwa_no_c787", "IPG406", True, 0.13, "@D", "J127 Y53?"),
    # Electrochemotherapy for skin metastases (IPG446): X70-X72 + Y12.3 + Z site (+ Z94); C79.2: no fixed rule
    Scenario("ect_ok", "IPG446", False, 0.45, "C792 C43?", "X7?? Y123 Z??"),
    Scenario("ect_ok_paired", "IPG446", False, 0.22, "C792 C43?", "X7?? Y123 Z?? Z94?"),
    Scenario("ect_no_y123", "IPG446", True, 0.18, "C792 C43?", "X7?? Z??"),
    Scenario("ect_no_site", "IPG446", True, 0.15, "C792 C43?", "X7?? Y123"),
)
SCENARIO_MAINS = {"J124", "J128", "J127", "J083", "J032"}  # never drawn for background episodes
RULE_KEYS = [(rule, sev) for rule, sevs in hes.FIXED_RULES.items() for sev in sevs]


# --------------------------------------------------------------------------------------------- code pools
@dataclass(frozen=True)
class Codebook:
    """Synthetic code pools, their sampling distributions and compiled scenario templates."""

    diag: pa.Array  # diagnosis vocabulary (undotted, X padded)
    diag_cdf: np.ndarray  # Zipf-like sampling distribution over `diag`
    background: np.ndarray  # indices of diagnoses drawn for background episodes (no C78/C79)
    background_cdf: np.ndarray
    neutral: np.ndarray  # indices of diagnoses that are no neoplasm (a guidance case's other diagnoses)
    neutral_cdf: np.ndarray
    proc: pa.Array  # procedure vocabulary; index 0 is "-"
    main: np.ndarray  # indices of background main codes
    main_cdf: np.ndarray
    yq: np.ndarray  # Y qualifier indices
    yq_cdf: np.ndarray
    zsite: np.ndarray  # Z site indices (not Z94)
    zsite_cdf: np.ndarray
    lat: np.ndarray  # Z94 laterality indices
    diag_wild: dict[int, np.ndarray]  # wildcard token -> candidate indices
    proc_wild: dict[int, np.ndarray]
    scen_diag: np.ndarray  # (scenarios, width) diagnosis tokens, -1 padded
    scen_proc: np.ndarray  # (scenarios, width) procedure tokens, -1 padded
    scen_cdf: np.ndarray
    scen_findings: np.ndarray  # (scenarios, len(RULE_KEYS)) 0/1
    scen_liver: np.ndarray  # bool per scenario: liver specialty (else skin)
    never_first: np.ndarray  # bool per diagnosis: never the primary diagnosis (NEVER_FIRST)
    first_pool: np.ndarray  # indices of background diagnoses that may be primary
    first_cdf: np.ndarray
    female_only: np.ndarray  # bool per diagnosis (FEMALE_ONLY)
    lat_required: np.ndarray  # bool per procedure: its block has a Z94 laterality code
    lat_forbidden: np.ndarray  # bool per procedure: its block has none


def _zipf_cdf(n: int, exponent: float = 1.05, offset: float = 8.0) -> np.ndarray:
    w = 1.0 / (np.arange(n) + offset) ** exponent
    cdf = np.cumsum(w)
    return cdf / cdf[-1]


def _draw(rng: np.random.Generator, cdf: np.ndarray, size) -> np.ndarray:
    """Sample indices from a cumulative distribution."""
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(cdf) - 1)


def _code_family(rng, letters, categories, subdivided_p, forced, banned_categories=()):
    """Random codes letter+2 digits+(digit|X); `forced` maps a 3-character category to its 4th characters."""
    codes = set()
    for letter in letters:
        for cat in rng.choice(np.arange(1, 100), size=rng.integers(*categories), replace=False):
            stem = f"{letter}{cat:02d}"
            if stem in forced or stem in banned_categories:
                continue
            if rng.random() > subdivided_p:
                codes.add(stem + "X")
            else:
                codes.update(stem + str(d) for d in rng.choice(10, size=rng.integers(2, 9), replace=False))
    for stem, fourth in forced.items():
        codes.update(stem + ch for ch in fourth)
    return codes


def _sub_cdf(cdf: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """The distribution of ``cdf`` restricted to ``indices`` (their weights, renormalised), as a CDF."""
    weights = np.diff(np.concatenate([[0.0], cdf]))[indices]
    return np.cumsum(weights) / weights.sum()


def _ranked(rng, codes, head=()):
    """Codes in sampling-rank order: `head` first, the rest shuffled."""
    rest = sorted(set(codes) - set(head))
    rng.shuffle(rest)
    return list(head) + rest


@functools.lru_cache(maxsize=1)
def codebook() -> Codebook:
    """Build the synthetic code pools (fixed internal seed, independent of the extract seed)."""
    rng = np.random.default_rng(POOL_SEED)
    diag_forced = {
        "C18": "0123456789",
        "C22": "0123479",
        "C78": "012345678",
        "C79": "0123456789",
        "C43": "0123456789",
        "C19": "X",
        "C20": "X",
        "I10": "X",
        "E11": "0123456789",
        "J18": "01289",
        "N39": "0",
        "I48": "01249",
        "E78": "0123456789",
        "Z86": "01234567",
    }
    diag_codes = _code_family(rng, "ABCDEFGHIJKLMNOPQRSTUZ", (25, 60), 0.75, diag_forced,
                              banned_categories=BACKGROUND_BANNED | MALE_ONLY)
    diag_list = _ranked(rng, diag_codes, head=("I10X", "E119", "J181", "N390", "I489", "E785", "J189"))
    diag_index = {c: i for i, c in enumerate(diag_list)}
    diag_cdf = _zipf_cdf(len(diag_list))
    # C78/C79 are only drawn by the scenarios, which code them with their primary site; a guidance case's
    # other diagnoses are no neoplasm (C00-D48), which would decide which guidance applies (IPG445, HTG532).
    is_rule_dx = np.array([c[0] == "C" or "D00" <= c[:3] <= "D48" for c in diag_list])
    neutral = np.flatnonzero(~is_rule_dx)
    neutral_cdf = _sub_cdf(diag_cdf, neutral)
    background = np.flatnonzero([c[:3] not in ("C78", "C79") for c in diag_list])
    background_cdf = _sub_cdf(diag_cdf, background)

    # No X70/X71 procurement codes in the background: by default a trust does not collect them.
    main_forced = {"J12": "12569", "H22": "1289"}
    mains = _code_family(
        rng, "ABCDEFGHJKLMNOPQRSTVWX", (20, 45), 1.0, main_forced,
        banned_categories={"J03", "J08"} | MAIN_BANNED
    )
    mains = {c for c in mains if not c.endswith("X") and c not in SCENARIO_MAINS and c[:3] not in ("X70", "X71")}
    yq = _code_family(rng, "Y", (35, 36), 1.0, {"Y53": "123456789", "Y12": "123489", "Y13": "123456789"})
    yq = {c for c in yq if not c.endswith("X") and c[:3] not in QUALIFIER_BANNED and c not in SCENARIO_ONLY}
    zsite = _code_family(
        rng, "Z", (60, 61), 1.0, {"Z47": "0123456789", "Z30": "12589"}, banned_categories={"Z94"}
    )
    zsite = {c for c in zsite if not c.endswith("X")}
    lat = ["Z941", "Z942", "Z943", "Z944"]
    main_list = _ranked(rng, mains, head=("H229", "X292", "M459"))
    yq_list = _ranked(rng, yq, head=("Y539", "Y534", "Y532"))
    zsite_list = _ranked(rng, zsite)
    proc_list = [hes.NO_OPERATION] + sorted(
        set(main_list) | SCENARIO_MAINS | SCENARIO_ONLY | set(yq_list) | set(zsite_list) | set(lat)
    )
    proc_index = {c: i for i, c in enumerate(proc_list)}

    def idx(codes, index):
        return np.array([index[c] for c in codes], dtype=np.int64)

    dv, pv = len(diag_list), len(proc_list)
    never_first = np.array([c[:3] in NEVER_FIRST for c in diag_list])
    first_pool = background[~never_first[background]]
    first_cdf = _sub_cdf(diag_cdf, first_pool)
    diag_wild_codes = {
        "C18?": [c for c in diag_list if c.startswith("C18")],
        "C22!": [c for c in diag_list if c.startswith("C22") and c != "C229"],
        "C43?": [c for c in diag_list if c.startswith("C43")],
        "@D": [diag_list[i] for i in neutral[:400]],
    }
    proc_wild_codes = {
        "Y53?": [c for c in proc_list if c.startswith("Y53")],
        "Z??": zsite_list[:80],
        "Z94?": lat,
        "X7??": [c for c in proc_list if c[:3] in ("X70", "X71", "X72")],
        "@M": [c for c in main_list if c[:3] not in LATERALITY_REQUIRED][:300],  # a bare main code
    }
    diag_tok = {w: dv + k for k, w in enumerate(diag_wild_codes)} | diag_index
    proc_tok = {w: pv + k for k, w in enumerate(proc_wild_codes)} | proc_index

    def compile_templates(field, tokens):
        rows = [[tokens[t] for t in getattr(s, field).split()] for s in SCENARIOS]
        out = np.full((len(rows), max(map(len, rows))), -1, dtype=np.int64)
        for i, r in enumerate(rows):
            out[i, : len(r)] = r
        return out

    weights = np.array([RULESET_SHARE[s.ruleset] * s.weight for s in SCENARIOS])
    findings = np.array([[key in s.findings for key in RULE_KEYS] for s in SCENARIOS], dtype=np.int64)
    return Codebook(
        diag=pa.array(diag_list, pa.string()),
        diag_cdf=diag_cdf,
        background=background,
        background_cdf=background_cdf,
        neutral=neutral,
        neutral_cdf=neutral_cdf,
        proc=pa.array(proc_list, pa.string()),
        main=idx(main_list, proc_index),
        main_cdf=_zipf_cdf(len(main_list), 1.0, 15.0),
        yq=idx(yq_list, proc_index),
        yq_cdf=_zipf_cdf(len(yq_list), 1.1, 3.0),
        zsite=idx(zsite_list, proc_index),
        zsite_cdf=_zipf_cdf(len(zsite_list), 1.0, 5.0),
        lat=idx(lat, proc_index),
        diag_wild={diag_tok[w]: idx(c, diag_index) for w, c in diag_wild_codes.items()},
        proc_wild={proc_tok[w]: idx(c, proc_index) for w, c in proc_wild_codes.items()},
        scen_diag=compile_templates("diagnoses", diag_tok),
        scen_proc=compile_templates("procedures", proc_tok),
        scen_cdf=np.cumsum(weights) / weights.sum(),
        scen_findings=findings,
        scen_liver=np.array([s.ruleset != "IPG446" for s in SCENARIOS]),
        never_first=never_first,
        first_pool=first_pool,
        first_cdf=first_cdf,
        female_only=np.array([c[:3] in FEMALE_ONLY for c in diag_list]),
        lat_required=np.array([c[:3] in LATERALITY_REQUIRED for c in proc_list]),
        lat_forbidden=np.array([c[:3] in LATERALITY_FORBIDDEN for c in proc_list]),
    )


# --------------------------------------------------------------------------------------------- block generation
def _resolve(tokens: np.ndarray, wild: dict[int, np.ndarray], rng) -> np.ndarray:
    """Replace wildcard tokens by random members of their candidate sets (in place)."""
    for token, candidates in wild.items():
        hit = tokens == token
        if hits := int(hit.sum()):
            tokens[hit] = candidates[rng.integers(len(candidates), size=hits)]
    return tokens


def _to_matrix(rows: np.ndarray, codes: np.ndarray, n: int, width: int) -> np.ndarray:
    """Scatter (row, code) slots, grouped by row in order, into an (n, width) matrix padded with -1."""
    counts = np.bincount(rows, minlength=n)
    starts = np.cumsum(counts) - counts
    pos = np.arange(len(rows)) - starts[rows]
    out = np.full((n, width), -1, dtype=np.int64)
    out[rows, pos] = codes
    return out


def _dedupe(m: np.ndarray, pool: np.ndarray, cdf: np.ndarray, rng, max_rounds: int = 50) -> np.ndarray:
    """Redraw repeated codes within each row of `m` (-1 = empty; the first occurrence is kept), in place."""
    rows, cols = np.nonzero(m >= 0)
    for _ in range(max_rounds if rows.size else 0):
        key = rows * (int(m.max()) + 1) + m[rows, cols]
        order = np.argsort(key, kind="stable")
        later = order[1:][key[order][1:] == key[order][:-1]]
        if later.size == 0:
            break
        m[rows[later], cols[later]] = pool[_draw(rng, cdf, later.size)]
    return m


def _primary_first(cb: Codebook, dx: np.ndarray, rng) -> None:
    """National standards: a code that is never primary (a Z code, I99) is not first; it swaps places with the
    episode's first code that may be, or (none) a primary diagnosis is drawn for it (in place)."""
    bad = np.flatnonzero(cb.never_first[np.maximum(dx[:, 0], 0)] & (dx[:, 0] >= 0))
    if not bad.size:
        return
    rows = dx[bad]
    ok = (rows >= 0) & ~cb.never_first[np.maximum(rows, 0)]
    has = ok.any(axis=1)
    j = ok.argmax(axis=1)
    swap, other = bad[has], j[has]
    dx[swap, 0], dx[swap, other] = dx[swap, other], dx[swap, 0].copy()
    dx[bad[~has], 0] = cb.first_pool[_draw(rng, cb.first_cdf, int((~has).sum()))]


def _proc_blocks(cb: Codebook, rng, rows: np.ndarray, nblocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PYZ-sequenced procedure blocks: (row, code) slots, main code then Y, Z site and Z94 codes."""
    brow = np.repeat(rows, nblocks)
    nb = brow.size
    ny = _draw(rng, np.cumsum(Y_COUNT_P), nb)
    nz = (rng.random(nb) < Z_SITE_P).astype(np.int64)
    nl = (rng.random(nb) < LATERALITY_P).astype(np.int64)
    y1 = _draw(rng, cb.yq_cdf, nb)
    y2 = (y1 + 1 + rng.integers(len(cb.yq) - 1, size=nb)) % len(cb.yq)
    main = cb.main[_draw(rng, cb.main_cdf, nb)]
    # National standards: a joint replacement, eye or hernia repair has its laterality, a digestive or heart
    # operation none (LATERALITY_REQUIRED / _FORBIDDEN).
    nl = np.where(cb.lat_required[main], 1, np.where(cb.lat_forbidden[main], 0, nl))
    length = 1 + ny + nz + nl
    block = np.repeat(np.arange(nb), length)
    offset = np.arange(block.size) - np.repeat(np.cumsum(length) - length, length)
    zsite = cb.zsite[_draw(rng, cb.zsite_cdf, nb)]
    lat = cb.lat[rng.integers(len(cb.lat), size=nb)]
    ny_s, nz_s = ny[block], nz[block]
    yq = np.where(offset == 1, cb.yq[y1[block]], cb.yq[y2[block]])
    code = np.select(
        [offset == 0, offset <= ny_s, offset <= ny_s + nz_s],
        [main[block], yq, zsite[block]],
        lat[block],
    )
    return np.repeat(brow, length), code


def _block_table(cb: Codebook, seed: int, block: int, start: int, n: int, rate: float, round_keys,
                 errors: coding_errors.Injector):
    """Generate one block of `n` episodes starting at global row `start`: (pyarrow.Table, scenario counts,
    counts of each kind of coding error)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))
    row_ids = np.arange(n)

    # header fields
    procode = PROVIDERS[_draw(rng, np.cumsum(PROVIDER_P), n)]
    spec = SPECIALTIES[_draw(rng, np.cumsum(SPECIALTY_P), n)]
    sex = np.where(rng.random(n) < 0.47, 1, 2)
    age = np.where(rng.random(n) < 0.04, 0, 1 + np.floor(103 * rng.beta(2.0, 1.4, n))).astype(np.int64)
    fy_days = int((FY_END - FY_START).astype(int))
    epistart = FY_START + rng.integers(0, fy_days + 1, n)
    los = np.where(rng.random(n) < 0.38, 0, rng.geometric(0.18, n))
    epiend = np.minimum(epistart + los, FY_END)

    # background diagnoses: 1..20, skewed towards few, distinct within the episode
    ndx = 1 + np.minimum(rng.negative_binomial(2, 0.36, n), DIAG_COUNT_MAX - 1)
    dx = np.full((n, DIAG_COUNT_MAX), -1, dtype=np.int64)
    filled = np.arange(DIAG_COUNT_MAX) < ndx[:, None]
    dx[filled] = cb.background[_draw(rng, cb.background_cdf, int(ndx.sum()))]
    dx = _dedupe(dx, cb.background, cb.background_cdf, rng)

    # background procedures
    prow, pcode = _proc_blocks(cb, rng, row_ids, _draw(rng, np.cumsum(BLOCKS_P), n))

    # guidance scenarios
    k = rng.binomial(n, rate)
    sp = np.sort(rng.choice(n, size=k, replace=False))
    scen = _draw(rng, cb.scen_cdf, k)
    liver = cb.scen_liver[scen]
    spec[sp] = np.where(
        liver,
        LIVER_SPECIALTIES[rng.integers(len(LIVER_SPECIALTIES), size=k)],
        SKIN_SPECIALTIES[rng.integers(len(SKIN_SPECIALTIES), size=k)],
    )
    age[sp] = rng.integers(35, 90, size=k)

    tdx = _resolve(cb.scen_diag[scen].copy(), cb.diag_wild, rng)
    tlen = (tdx >= 0).sum(axis=1)
    extra = rng.integers(0, 6, size=k)
    sdx = cb.neutral[_draw(rng, cb.neutral_cdf, (k, DIAG_COUNT_MAX))]
    sdx[:, : tdx.shape[1]] = np.where(tdx >= 0, tdx, sdx[:, : tdx.shape[1]])
    sdx[np.arange(DIAG_COUNT_MAX) >= (tlen + extra)[:, None]] = -1
    dx[sp] = _dedupe(sdx, cb.neutral, cb.neutral_cdf, rng)

    _primary_first(cb, dx, rng)
    sex[cb.female_only[np.maximum(dx, 0)].any(axis=1, where=dx >= 0)] = 2

    tpr = cb.scen_proc[scen]
    ti, tj = np.nonzero(tpr >= 0)
    t_codes = _resolve(tpr[ti, tj].copy(), cb.proc_wild, rng)
    pre_row, pre_code = _proc_blocks(cb, rng, sp, (rng.random(k) < 0.15).astype(np.int64))
    post_row, post_code = _proc_blocks(cb, rng, sp, (rng.random(k) < 0.25).astype(np.int64))
    keep = ~np.isin(prow, sp)
    rows = np.concatenate([prow[keep], pre_row, sp[ti], post_row])
    segment = np.concatenate(
        [
            np.ones(keep.sum(), np.int64),
            np.zeros(pre_row.size, np.int64),
            np.ones(ti.size, np.int64),
            np.full(post_row.size, 2),
        ]
    )
    order = np.argsort(rows * 3 + segment, kind="stable")
    px = _to_matrix(
        rows[order], np.concatenate([pcode[keep], pre_code, t_codes, post_code])[order], n, PROC_SLOTS
    )
    # national coding errors in episodes that are not guidance cases, from a stream of their own
    error_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block, 1)))
    error_counts = errors.inject(error_rng, dx, px, np.setdiff1d(row_ids, sp, assume_unique=True))
    px[px[:, 0] < 0, 0] = 0  # "-" : no operation

    columns = [
        _episode_keys(start + row_ids, round_keys),
        pa.array(procode, pa.string()),
        pa.array(epistart),
        pa.array(epiend),
        pa.array(sex, pa.int64()),
        pa.array(age, pa.int64()),
        pa.array(spec, pa.string()),
    ]
    columns += [pc.take(errors.diag, pa.array(dx[:, j], mask=dx[:, j] < 0)) for j in range(DIAG_COUNT_MAX)]
    columns += [pc.take(cb.proc, pa.array(px[:, j], mask=px[:, j] < 0)) for j in range(PROC_SLOTS)]
    scenario_counts = np.bincount(scen, minlength=len(SCENARIOS))
    return pa.Table.from_arrays(columns, schema=SCHEMA), scenario_counts, error_counts


def _key_rounds(seed: int) -> np.ndarray:
    """Round keys of the Feistel permutation that turns row numbers into EPIKEYs."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31,)))
    return rng.integers(1, 10**6, size=(4, 3))


def _episode_keys(rows: np.ndarray, round_keys: np.ndarray) -> pa.Array:
    """Unique 12-digit EPIKEY strings: a 4-round Feistel bijection on (6 digits, 6 digits)."""
    left, right = rows // 10**6, rows % 10**6
    for k1, k2, k3 in round_keys:
        mixed = ((right * k1 + k2) % 10**6) * (right ^ k3) % 10**6
        left, right = right, (left + mixed) % 10**6
    return pc.utf8_lpad(pc.cast(pa.array(left * 10**6 + right), pa.string()), 12, "0")


def iter_chunks(
    n: int,
    seed: int,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    guidance_rate: float = DEFAULT_GUIDANCE_RATE,
    error_rate: float = DEFAULT_ERROR_RATE,
) -> Iterator[tuple[pa.Table, np.ndarray, np.ndarray]]:
    """Yield (table, scenario counts, coding error counts) chunks of about `chunk_rows` episodes covering `n`
    episodes; `error_rate` 0 gives the clean extract."""
    if not 0 < n <= MAX_EPISODES:
        raise ValueError(f"episodes must be in 1..{MAX_EPISODES}")
    cb, round_keys = codebook(), _key_rounds(seed)
    errors = coding_errors.Injector(cb, error_rate)
    per_chunk = max(1, chunk_rows // BLOCK_ROWS)
    nblocks = -(-n // BLOCK_ROWS)
    for first in range(0, nblocks, per_chunk):
        parts = [
            _block_table(
                cb, seed, b, b * BLOCK_ROWS, min(BLOCK_ROWS, n - b * BLOCK_ROWS), guidance_rate, round_keys,
                errors,
            )
            for b in range(first, min(first + per_chunk, nblocks))
        ]
        yield pa.concat_tables([t for t, _, _ in parts]), sum(c for _, c, _ in parts), sum(e for _, _, e in parts)


def expected_document(
    n: int,
    seed: int,
    scenario_counts: np.ndarray,
    guidance_rate: float,
    error_counts: np.ndarray | None = None,
    error_rate: float = 0.0,
) -> dict:
    """The expected-counts JSON document for an extract built from the given scenario and error counts.

    "rules" holds the four fixed rules, then (with coding errors) the national rules the errors break."""
    cb = codebook()
    per_key = scenario_counts @ cb.scen_findings
    counts = hes.empty_counts()
    for (rule, sev), value in zip(RULE_KEYS, per_key):
        counts[rule][sev] = int(value)
    miscoded = sum(int(c) for s, c in zip(SCENARIOS, scenario_counts) if s.miscoded)
    errors = np.zeros(len(coding_errors.ERRORS), np.int64) if error_counts is None else error_counts
    if error_rate > 0:
        counts |= coding_errors.expected_rules(errors)
    return {
        "generator": "benchmarks/generate.py",
        "generator_version": GENERATOR_VERSION,
        "episodes": n,
        "seed": seed,
        "guidance_rate": guidance_rate,
        "error_rate": error_rate,
        "guidance_episodes": int(scenario_counts.sum()),
        "miscoded_episodes": miscoded,
        "coding_error_episodes": int(errors.sum()),
        "episodes_with_an_error": miscoded + int(errors.sum()),
        "counted_as": "distinct episodes flagged per rule id and severity",
        "rules": counts,
        "scenarios": {s.name: int(c) for s, c in zip(SCENARIOS, scenario_counts)},
        "coding_errors": {k.name: int(c) for k, c in zip(coding_errors.ERRORS, errors)},
    }


def generate_table(
    n: int, seed: int, guidance_rate: float = DEFAULT_GUIDANCE_RATE, error_rate: float = DEFAULT_ERROR_RATE
) -> tuple[pa.Table, dict]:
    """Generate `n` episodes in memory: (pyarrow.Table, expected-counts document)."""
    tables = []
    scenarios, errors = np.zeros(len(SCENARIOS), np.int64), np.zeros(len(coding_errors.ERRORS), np.int64)
    for table, scenario_counts, error_counts in iter_chunks(n, seed, guidance_rate=guidance_rate,
                                                            error_rate=error_rate):
        tables.append(table)
        scenarios += scenario_counts
        errors += error_counts
    return pa.concat_tables(tables), expected_document(n, seed, scenarios, guidance_rate, errors, error_rate)


def generate_frame(
    n: int, seed: int, guidance_rate: float = DEFAULT_GUIDANCE_RATE, error_rate: float = DEFAULT_ERROR_RATE
):
    """Generate `n` episodes as a pandas DataFrame (for small n; same rows as the files for that seed)."""
    return generate_table(n, seed, guidance_rate, error_rate)[0].to_pandas()


# --------------------------------------------------------------------------------------------- writing
class _ParquetSink:
    """Parquet writer emitting row groups of exactly ROW_GROUP_ROWS rows (the last one may be shorter)."""

    def __init__(self, path: Path):
        import pyarrow.parquet as pq

        self.writer = pq.ParquetWriter(path, SCHEMA, compression="zstd", compression_level=3)
        self.pending: list[pa.Table] = []
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        self.pending.append(table)
        self.rows += table.num_rows
        if self.rows >= ROW_GROUP_ROWS:
            buffered = pa.concat_tables(self.pending)
            full = (self.rows // ROW_GROUP_ROWS) * ROW_GROUP_ROWS
            self.writer.write_table(buffered.slice(0, full), row_group_size=ROW_GROUP_ROWS)
            rest = buffered.slice(full)
            self.pending, self.rows = ([rest] if rest.num_rows else []), rest.num_rows

    def close(self) -> None:
        if self.rows:
            self.writer.write_table(pa.concat_tables(self.pending), row_group_size=ROW_GROUP_ROWS)
        self.writer.close()


class _CsvSink:
    """CSV writer: unquoted header and values, empty cells for missing codes."""

    def __init__(self, path: Path):
        import pyarrow.csv as pacsv

        self.file = open(path, "wb")  # noqa: SIM115 - closed in close()
        self.file.write((",".join(SCHEMA.names) + "\n").encode())
        options = pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=8192)
        self.writer = pacsv.CSVWriter(self.file, SCHEMA, write_options=options)

    def write(self, table: pa.Table) -> None:
        self.writer.write_table(table)

    def close(self) -> None:
        self.writer.close()
        self.file.close()


def write_extract(
    n: int,
    seed: int,
    out_dir: str | Path,
    fmt: str = "both",
    *,
    name: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    guidance_rate: float = DEFAULT_GUIDANCE_RATE,
    error_rate: float = DEFAULT_ERROR_RATE,
    progress: bool = False,
) -> dict:
    """Generate and write an extract (csv, parquet or both) plus its expected-counts JSON.

    Returns the expected-counts document with the written paths under "files".
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = name or hes.extract_stem(n)
    formats = ["csv", "parquet"] if fmt == "both" else [fmt]
    paths = {f: out_dir / f"{stem}.{f}" for f in formats}
    sinks = [(_CsvSink if f == "csv" else _ParquetSink)(p) for f, p in paths.items()]
    total, errors = np.zeros(len(SCENARIOS), np.int64), np.zeros(len(coding_errors.ERRORS), np.int64)
    done, t0 = 0, time.perf_counter()
    try:
        for table, counts, error_counts in iter_chunks(n, seed, chunk_rows, guidance_rate, error_rate):
            for sink in sinks:
                sink.write(table)
            total += counts
            errors += error_counts
            done += table.num_rows
            if progress:
                rate = done / (time.perf_counter() - t0)
                print(f"  {done:>12,} / {n:,} episodes  ({rate:,.0f}/s)", file=sys.stderr, flush=True)
    finally:
        for sink in sinks:
            sink.close()
    doc = expected_document(n, seed, total, guidance_rate, errors, error_rate)
    hes.expected_path(out_dir / stem).write_text(json.dumps(doc, indent=2) + "\n")
    return doc | {"files": {f: str(p) for f, p in paths.items()}}


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="Generate a synthetic HES APC extract (wide layout).")
    parser.add_argument("--episodes", type=hes.parse_count, default=1_000_000, help="e.g. 1000000, 1m, 10m")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--format", choices=("csv", "parquet", "both"), default="both")
    parser.add_argument("--out", default="benchmarks/data/", help="output directory")
    parser.add_argument("--name", help="file stem (default hes_1m, hes_10m, ...)")
    parser.add_argument(
        "--chunk-rows",
        type=hes.parse_count,
        default=DEFAULT_CHUNK_ROWS,
        help=f"episodes generated per write (rounded to blocks of {BLOCK_ROWS})",
    )
    parser.add_argument(
        "--guidance-rate",
        type=float,
        default=DEFAULT_GUIDANCE_RATE,
        help="share of episodes drawn from the guidance scenarios",
    )
    parser.add_argument(
        "--error-rate",
        type=float,
        default=DEFAULT_ERROR_RATE,
        help="share of the other episodes given one national coding error (default %(default)s)",
    )
    parser.add_argument("--clean", action="store_true",
                        help="no national coding errors (--error-rate 0): the same episodes, before the errors")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    doc = write_extract(
        args.episodes,
        args.seed,
        args.out,
        args.format,
        name=args.name,
        chunk_rows=args.chunk_rows,
        guidance_rate=args.guidance_rate,
        error_rate=0.0 if args.clean else args.error_rate,
        progress=not args.quiet,
    )
    elapsed = time.perf_counter() - t0
    for path in doc["files"].values():
        print(f"wrote {path} ({Path(path).stat().st_size / 1e6:,.1f} MB)")
    print(f"wrote {hes.expected_path(next(iter(doc['files'].values())))}")
    print(
        f"{args.episodes:,} episodes in {elapsed:.1f} s; guidance episodes {doc['guidance_episodes']:,} "
        f"(mis-coded {doc['miscoded_episodes']:,}); coding errors {doc['coding_error_episodes']:,}; "
        f"episodes with an error {doc['episodes_with_an_error']:,}; expected findings {json.dumps(doc['rules'])}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

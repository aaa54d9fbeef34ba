"""National coding-convention errors put into synthetic episodes at published rates.

Real extracts have coding errors on the order of one episode in ten (the Payment by Results assurance audits:
16.5% of audited episodes in 2007/08, 12.8% in 2008/09, about 11% in 2009/10; reviews of UK studies: 80-91%
accuracy for diagnoses, 70-84% for procedures). ``DEFAULT_ERROR_RATE`` of the episodes that are not guidance
cases get one error of a kind in ``ERRORS``; with the guidance cases' mis-codings (NICE), about one episode in
ten carries an error.

Each kind breaks one shipped national rule and nothing else: the background breaks none of the 260 shipped rules
(``generate.BACKGROUND_BANNED``: no external causes, no Z code first, laterality where the standards want it),
so the episodes each rule flags are exactly the episodes given that kind, and the generator counts them as it
makes them.
An error draws from its own random stream (``SeedSequence(seed, spawn_key=(block, 1))``): the clean rows
(``--clean``) are byte for byte those of an extract without errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

DEFAULT_ERROR_RATE = 0.10


@dataclass(frozen=True)
class ErrorKind:
    """One kind of coding error: how an episode is changed, the rule that flags it, its share of errors."""

    name: str
    rule: str
    severity: str
    share: float
    action: str  # "prepend" / "append" diagnoses, or "procedures": the episode's procedures replaced
    codes: str  # codes, or procedure tokens: @M a main code, @K a heart main code, Y?? a qualifier, Z?? a site,
    # Z94? laterality


# Diagnoses are about 70% of the errors, procedures 30% (procedures are coded in about half the episodes, and
# less accurately).
ERRORS: tuple[ErrorKind, ...] = (
    ErrorKind("external_cause_primary", "NAT-ICD-01", "error", 0.15, "prepend", "W199"),
    ErrorKind("agent_primary", "NAT-ICD-02", "error", 0.10, "prepend", "B962"),
    ErrorKind("fracture_no_fifth_character", "NAT-ICD-04", "error", 0.10, "append", "S720 W199"),
    ErrorKind("diabetes_two_types", "NAT-ICD-06", "error", 0.10, "append", "E109 E149"),
    ErrorKind("ckd_two_stages", "NAT-ICD-07", "error", 0.08, "append", "N183 N185"),
    ErrorKind("sepsis_then_agent", "NAT-ICD-13", "error", 0.07, "append", "A419 B962"),
    ErrorKind("ill_defined_cause", "NAT-ICD-14", "warning", 0.10, "append", "R69X"),
    ErrorKind("qualifier_as_main", "DATA-03", "error", 0.10, "procedures", "Y?? @M"),
    ErrorKind("qualifier_after_site", "NAT-OPCS-02", "error", 0.10, "procedures", "@M Z?? Y??"),
    ErrorKind("site_after_laterality", "NAT-OPCS-03", "error", 0.05, "procedures", "@M Z94? Z??"),
    ErrorKind("heart_with_laterality", "NAT-OPCS-05", "error", 0.05, "procedures", "@K Z94?"),
)
ERROR_RULES: dict[str, tuple[str, ...]] = {kind.rule: (kind.severity,) for kind in ERRORS}  # one kind a rule


class Injector:
    """Puts ``ERRORS`` into a block's diagnosis and procedure index matrices (see ``generate._block_table``)."""

    def __init__(self, cb, rate: float):
        self.rate = rate
        diag = cb.diag.to_pylist()
        extra = sorted({c for k in ERRORS if k.action != "procedures" for c in k.codes.split()} - set(diag))
        self.diag = pa.concat_arrays([cb.diag, pa.array(extra, pa.string())])  # new codes after the pool's
        index = {c: i for i, c in enumerate(diag + extra)}
        proc = cb.proc.to_pylist()
        chapter = np.array([proc[i][0] for i in cb.main])
        # Main codes whose laterality no rule looks at: neither one that needs Z94 (an eye, a joint) nor one
        # that must not have it (digestive, heart).
        plain = cb.main[~cb.lat_required[cb.main] & ~cb.lat_forbidden[cb.main]]
        qualifiers = cb.yq[~np.isin([proc[i][:3] for i in cb.yq], ["Y12"])]  # Y12.3 is electrochemotherapy
        self.pools = {"@M": plain, "@K": cb.main[chapter == "K"], "Y??": qualifiers, "Z??": cb.zsite,
                      "Z94?": cb.lat}
        self.diag_codes = [np.array([index[c] for c in k.codes.split()]) if k.action != "procedures" else None
                           for k in ERRORS]
        shares = np.array([k.share for k in ERRORS])
        self.cdf = np.cumsum(shares) / shares.sum()

    def inject(self, rng, dx: np.ndarray, px: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """Give ``rate`` of the ``candidates`` rows one error each (in place); returns the count of each kind."""
        if self.rate <= 0:
            return np.zeros(len(ERRORS), np.int64)
        rows = rng.choice(candidates, size=rng.binomial(len(candidates), self.rate), replace=False)
        kinds = np.minimum(np.searchsorted(self.cdf, rng.random(rows.size), side="right"), len(ERRORS) - 1)
        width = dx.shape[1]
        for k, kind in enumerate(ERRORS):
            r = rows[kinds == k]
            if not r.size:
                continue
            codes = self.diag_codes[k]
            if kind.action == "prepend":
                dx[r] = np.concatenate([np.broadcast_to(codes, (r.size, codes.size)), dx[r, : width - codes.size]],
                                       axis=1)
            elif kind.action == "append":  # after the last code (over the last ones in a full row)
                at = np.minimum((dx[r] >= 0).sum(axis=1), width - codes.size)
                for j, code in enumerate(codes):
                    dx[r, at + j] = code
            else:
                tokens = kind.codes.split()
                px[r] = -1
                for j, token in enumerate(tokens):
                    pool = self.pools[token]
                    px[r, j] = pool[rng.integers(len(pool), size=r.size)]
        return np.bincount(kinds, minlength=len(ERRORS))


def expected_rules(error_counts: np.ndarray) -> dict[str, dict[str, int]]:
    """Distinct episodes each error rule flags, per severity, from the counts of each kind."""
    counts = {rule: {sev: 0 for sev in ("error", "warning")} for rule in ERROR_RULES}
    for kind, n in zip(ERRORS, error_counts):
        counts[kind.rule][kind.severity] += int(n)
    return counts

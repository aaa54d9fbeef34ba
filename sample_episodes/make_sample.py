"""Write the synthetic sample extract and the findings each episode should get.

Every case below is written by hand: its codes, how they are formatted, and
the findings a correct engine must report. Nothing here comes from real
patients. Run from the repository root:  python sample_episodes/make_sample.py
"""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent
N_DIAG, N_OPER = 8, 10

# (description, diagnoses, procedures, expected findings as "RULE:severity")
CASES: list[tuple[str, list[str], list[str], list[str]]] = [
    # -- IPG327 radiofrequency ablation of colorectal liver metastases ---------------------------
    ("RFA correct", ["C787", "C187"], ["J124", "Y539"], []),
    ("RFA correct, dotted lower case", ["c78.7", "c18.2"], ["j12.4", "y53.4"], []),
    ("RFA correct, spaces and fifth-character filler", [" C787- ", "C180 "], [" J124", "Y539 "], []),
    ("RFA without Y53", ["C787", "C189"], ["J124"], ["IPG327-01:error"]),
    ("RFA with Y53 in another procedure's block", ["C787", "C180"], ["J124", "Z291", "J038", "Y539"],
     ["IPG327-01:error"]),
    ("RFA twice, second without Y53", ["C787", "C187"], ["J124", "Y539", "J124"], ["IPG327-01:error"]),
    ("RFA without C18 code (so no primary site either)", ["C787"], ["J124", "Y539"],
     ["IPG327-02:error", "NAT-ICD-03:error"]),
    ("RFA without C78.7", ["C182", "I10X"], ["J124", "Y539"], ["IPG327-02:error"]),
    ("RFA without Y53 or C18", ["C787", "E119"], ["J124"],
     ["IPG327-01:error", "IPG327-02:error", "NAT-ICD-03:error"]),
    ("RFA of hepatocellular carcinoma (not IPG327's diagnoses)", ["C220"], ["J124", "Y534"], []),
    ("RFA with rectal primary only", ["C787", "C20X"], ["J124", "Y539"], ["IPG327-02:error"]),
    # -- HTG532 irreversible electroporation for primary liver cancer ---------------------------
    ("IRE correct", ["C229"], ["J128", "Y123", "Y534"], []),
    ("IRE correct, dotted", ["C22.9", "K74.6"], ["J12.8", "Y12.3", "Y53.9"], []),
    ("IRE without Y53", ["C229"], ["J128", "Y123"], ["HTG532-01:error"]),
    ("IRE with Y53 in another block", ["C229"], ["J128", "Y123", "A529", "Y539"], ["HTG532-01:error"]),
    ("IRE with C22.0 instead of C22.9", ["C220"], ["J128", "Y123", "Y534"], ["HTG532-02:warning"]),
    ("IRE with C22.1 instead of C22.9", ["c22.1", "I10X"], ["J128", "Y123", "Y534"], ["HTG532-02:warning"]),
    ("IRE with no C22 code", ["K746"], ["J128", "Y123", "Y539"], ["HTG532-02:error"]),
    ("IRE for liver metastases (other guidance)", ["C787", "C189"], ["J128", "Y123", "Y534"], []),
    ("IRE with C22.0 and C22.9", ["C220", "C229"], ["J128", "Y123", "Y534"], []),
    ("J12.8 without Y12.3 is not IRE", ["C229"], ["J128", "Y539"], []),
    ("IRE without Y53 or C22", ["R18X"], ["J128", "Y123"], ["HTG532-01:error", "HTG532-02:error"]),
    # -- IPG406 microwave ablation of liver metastases ------------------------------------------
    ("MWA percutaneous correct", ["C787", "C20X"], ["J127", "Y534"], []),
    ("MWA open correct", ["C787", "C20X"], ["J032", "Y137", "Y539"], []),
    ("MWA open without Y53 (optional: info)", ["C787", "C189"], ["J032", "Y137"], ["IPG406-02:info"]),
    ("MWA laparoscopic without C78.7", ["C189"], ["J083", "Y539"], ["IPG406-01:error"]),
    ("MWA percutaneous without C78.7 or Y53", ["C809"], ["J127"], ["IPG406-01:error", "IPG406-02:info"]),
    ("MWA of hepatocellular carcinoma (IPG214)", ["C220"], ["J127", "Y534"], []),
    ("J03.2 without Y13.7 is not MWA", ["C787", "Z853"], ["J032"], []),
    # -- IPG446 electrochemotherapy for skin metastases ------------------------------------------
    ("ECT correct", ["C792", "C509"], ["X721", "Y123", "Z493"], []),
    ("ECT with body system code and laterality", ["C435", "C792"], ["X722", "S068", "Y123", "Z501", "Z942"], []),
    ("ECT without Z site code", ["C792", "C509"], ["X721", "Y123"], ["IPG446-01:error"]),
    ("ECT with laterality but no site", ["C792", "C509"], ["X721", "Y123", "Z942"], ["IPG446-01:error"]),
    ("ECT with a procurement code the trust does not collect (option off)", ["C792", "C509"],
     ["X701", "X721", "Y123", "Z493"], ["NAT-OPCS-06:warning"]),
    ("ECT without X70-X72", ["C792", "C349"], ["S068", "Y123", "Z501"], ["IPG446-02:error"]),
    ("ECT without site or chemotherapy code", ["C439"], ["S068", "Y123"], ["IPG446-01:error", "IPG446-02:error"]),
    # -- built-in data checks ---------------------------------------------------------------------
    ("Misplaced dot in a diagnosis", ["C7.87", "C187"], ["H229"], ["DATA-01:error"]),
    ("Junk diagnosis value", ["C78.7.1"], ["-"], ["DATA-01:error"]),
    ("Formula-looking diagnosis value", ["=HYPERLINK(\"x\")", "I10X"], ["-"], ["DATA-01:error"]),
    ("OPCS-4 has no chapter I", ["K359"], ["I124"], ["DATA-02:error"]),
    ("Y code as main procedure (and J12.4 loses its Y53)", ["C787", "C187"], ["Y539", "J124"],
     ["DATA-03:error", "IPG327-01:error"]),
    ("Laterality as main procedure", ["H259"], ["Z942", "W371"], ["DATA-03:error"]),
    # -- national coding standards (ICD-10) ---------------------------------------------------------
    ("External cause as primary diagnosis", ["W19X", "S7200"], ["W461", "Z843", "Z941"], ["NAT-ICD-01:error"]),
    ("Infectious agent as primary diagnosis", ["B962", "N390"], ["-"], ["NAT-ICD-02:error"]),
    ("Infectious agent after the condition", ["N390", "B962"], ["-"], []),
    ("Secondary neoplasm with a history of the primary", ["C787", "Z853"], ["-"], []),
    ("Secondary neoplasm without a primary site", ["C792"], ["S062", "Z501"], ["NAT-ICD-03:error"]),
    ("Hip fracture without its fifth character", ["S720", "W19X"], ["W461", "Z843", "Z941"], ["NAT-ICD-04:error"]),
    ("Spine fracture with X placeholder and fifth character", ["T08X0", "W19X"], ["-"], []),
    ("Spine fracture without its fifth character", ["T08X", "W19X"], ["-"], ["NAT-ICD-04:error"]),
    ("Respiratory failure with its fifth character", ["J9601", "J441"], ["-"], []),
    ("Respiratory failure without its fifth character", ["J960", "J441"], ["-"], ["NAT-ICD-05:error"]),
    ("Type 1 and type 2 diabetes together", ["E119", "E109"], ["-"], ["NAT-ICD-06:error"]),
    ("Two stages of chronic kidney disease", ["N183", "N189"], ["-"], ["NAT-ICD-07:error"]),
    ("Liveborn infant as primary", ["Z380", "P599"], ["-"], []),
    ("Liveborn infant after the first secondary position", ["P599", "P220", "Z380"], ["-"], ["NAT-ICD-08:error"]),
    ("Multiple primaries code first", ["C97X", "C509", "C189"], ["-"], []),
    ("Multiple primaries code not first", ["C509", "C97X", "C189"], ["-"], ["NAT-ICD-09:error"]),
    ("U07.5 directly after U07.1", ["J128", "U071", "U075"], ["-"], []),
    ("U07.5 not directly after U07.1", ["U071", "J128", "U075"], ["-"], ["NAT-ICD-10:error"]),
    ("R65.1 directly after sepsis", ["A419", "R651", "N390"], ["-"], []),
    ("R65.1 not directly after sepsis", ["A419", "N390", "R651"], ["-"], ["NAT-ICD-11:error"]),
    ("Incidental pregnancy with an obstetric code", ["O800", "Z33X"], ["R182"], ["NAT-ICD-12:error"]),
    ("Sepsis directly followed by an infectious agent", ["A410", "B956"], ["-"], ["NAT-ICD-13:error"]),
    ("Ill-defined cause of morbidity", ["R69X"], ["-"], ["NAT-ICD-14:warning"]),
    ("Lymphoma with a secondary neoplasm code", ["C833", "C772"], ["-"], ["NAT-ICD-15:error"]),
    ("Lymphoma with liver metastases from a colon primary", ["C833", "C787", "C187"], ["-"], []),
    # -- national coding standards (OPCS-4) ---------------------------------------------------------
    ("Approach code after an unknown procedure placeholder", ["K802"], ["&", "Y751"], ["NAT-OPCS-01:error"]),
    ("Method code after the site code", ["K409"], ["T202", "Z941", "Y711"], ["NAT-OPCS-02:error"]),
    ("Site code after laterality", ["M171"], ["W401", "Z942", "Z846"], ["NAT-OPCS-03:error"]),
    ("Eye procedure without laterality", ["H251"], ["C751"], ["NAT-OPCS-04:error"]),
    ("Heart procedure with laterality", ["I209"], ["K401", "Z942"], ["NAT-OPCS-05:error"]),
    # -- correctly coded everyday episodes in varied formats -------------------------------------
    ("Hypertension, no procedure", ["I10X"], ["-"], []),
    ("Pneumonia, dotted", ["J18.1", "I10"], ["-"], []),
    ("Appendicitis with appendicectomy", ["K359"], ["H011"], []),
    ("Appendicitis, lower case", ["k35.9"], ["h01.1"], []),
    ("Type 2 diabetes with cataract surgery", ["H251", "E119"], ["C751", "Z942"], []),
    ("Hip fracture with hemiarthroplasty", ["S7200", "W19X"], ["W461", "Z843", "Z941"], []),
    ("Dagger and asterisk codes (sixth character)", ["A170-D", "G01X-A"], ["A031"], []),
    ("Dagger and asterisk codes (printed)", ["A17.0\u2020", "G01*"], ["-"], []),
    ("Unknown procedure placeholder", ["R104"], ["&"], []),
    ("Chest pain", ["R074", "I251"], ["U201"], []),
    ("Colonoscopy", ["K573"], ["H229"], []),
    ("Colectomy for colon cancer", ["C187", "C787"], ["H075", "Y758"], []),
    ("Cholecystectomy", ["K802"], ["J183", "Y752"], []),
    ("Hernia repair", ["K409"], ["T202", "Z941"], []),
    ("Knee replacement", ["M171"], ["W401", "Z846", "Z942"], []),
    ("Chemotherapy day case", ["C509", "Z511"], ["X723"], []),
    ("Caesarean section", ["O342", "Z370"], ["R182"], []),
    ("Breast cancer excision", ["C504"], ["B282", "Z152", "Z942"], []),
    ("Skin lesion excision", ["D225"], ["S062", "Z501"], []),
    ("Stroke", ["I639", "I10X", "E119"], ["-"], []),
    ("COPD exacerbation", ["J441", "J449"], ["-"], []),
    ("Cellulitis", ["L031"], ["-"], []),
]

# Rows that cannot be audited: they are set aside, with their line and reason, and counted.
REJECTS = [
    ("", "2025-05-03", ["C787"], ["J124"], "missing episode id"),
    ("S9002", "2025-13-45", ["I10X"], ["-"], "unparseable end date"),
]

HEADER = (["EPIKEY", "PROCODE", "EPISTART", "EPIEND", "SEX", "STARTAGE", "MAINSPEF"]
          + [f"DIAG_{i:02d}" for i in range(1, N_DIAG + 1)] + [f"OPERTN_{i:02d}" for i in range(1, N_OPER + 1)])
PROVIDERS = ["RXA01", "RXB02", "RXC03"]
SPECIALTIES = ["100", "300", "301", "370", "110"]


def _sex_and_age(index: int, diagnoses: list[str]) -> tuple[str, str]:
    """A sex and age that agree with the codes (rulesets/national/icd10-episode-context.yaml): a baby's birth
    episode (Z38) is under a year old (STARTAGE 7001); pregnancy and female genital codes are a woman's, male
    genital codes a man's; otherwise alternating."""
    sex, age = str(1 + index % 2), str(30 + (index * 7) % 60)
    if any(d.startswith(("O", "Z37")) or "N70" <= d[:3] <= "N98" or "C51" <= d[:3] <= "C58" for d in diagnoses):
        sex = "2"
    elif any("N40" <= d[:3] <= "N51" or "C60" <= d[:3] <= "C63" for d in diagnoses):
        sex = "1"
    if any(d.startswith("Z38") for d in diagnoses):
        age = "7001"
    return sex, age


def _row(key: str, index: int, end: str, diagnoses: list[str], procedures: list[str]) -> list[str]:
    day = 1 + index % 28
    start = f"2025-04-{day:02d}"
    return ([key, PROVIDERS[index % 3], start, end, *_sex_and_age(index, diagnoses),
             SPECIALTIES[index % 5]]
            + diagnoses + [""] * (N_DIAG - len(diagnoses)) + procedures + [""] * (N_OPER - len(procedures)))


def main() -> None:
    rows, expected, described = [], [], []
    for i, (what, diagnoses, procedures, findings) in enumerate(CASES):
        key = f"S{i + 1:04d}"
        end = "" if i % 17 == 5 else f"2025-{4 + i % 3:02d}-{1 + i % 28:02d}"  # a few without an end date
        rows.append(_row(key, i, end, diagnoses, procedures))
        for f in findings:
            rule_id, severity = f.split(":")
            expected.append((key, rule_id, severity))
        described.append((key, what, " ".join(diagnoses), " ".join(procedures),
                          " ".join(findings) or "none"))
    for j, (key, end, diagnoses, procedures, reason) in enumerate(REJECTS):
        rows.append(_row(key, len(CASES) + j, end, diagnoses, procedures))
        described.append((key or "(blank)", f"rejected: {reason}", " ".join(diagnoses), " ".join(procedures),
                          "set aside"))
    with open(HERE / "hes_sample.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    with open(HERE / "expected_findings.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["episode_id", "rule_id", "severity"])
        writer.writerows(sorted(expected))
    with open(HERE / "cases.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["episode_id", "case", "diagnoses", "procedures", "expected"])
        writer.writerows(described)
    print(f"{len(rows)} episodes ({len(REJECTS)} to be rejected), {len(expected)} expected findings")


if __name__ == "__main__":
    main()

"""Independent pandas evaluation of the engine's four fixed rules, used to check the generator's counts."""

import pandas as pd

from benchmarks import hes


def recompute_counts(df: pd.DataFrame) -> hes.Counts:
    """Distinct flagged episodes per fixed rule and severity, computed with pandas."""
    ops = df.melt(id_vars=[hes.ID_COLUMN], value_vars=hes.OPERTN_COLUMNS, var_name="col", value_name="code")
    ops = ops.dropna(subset=["code"])
    ops = ops[~ops["code"].isin(["", hes.NO_OPERATION, hes.NOT_KNOWN])].copy()
    ops["pos"] = ops["col"].str[-2:].astype(int)
    ops = ops.sort_values([hes.ID_COLUMN, "pos"])
    ops["is_main"] = ~ops["code"].str[0].isin(["Y", "Z"])
    ops["block"] = ops.groupby(hes.ID_COLUMN)["is_main"].cumsum()
    ops = ops[ops["block"] > 0]
    ops["y53"] = ops["code"].str.startswith("Y53")
    ops["y123"] = ops["code"] == "Y123"
    blocks = ops.groupby([hes.ID_COLUMN, "block"]).agg(
        main=("code", "first"), y53=("y53", "any"), y123=("y123", "any")
    )
    blocks["rfa"] = blocks["main"] == "J124"
    blocks["rfa_bad"] = blocks["rfa"] & ~blocks["y53"]
    blocks["ire"] = (blocks["main"] == "J128") & blocks["y123"]
    blocks["ire_bad"] = blocks["ire"] & ~blocks["y53"]
    ep = blocks.groupby(level=0)[["rfa", "rfa_bad", "ire", "ire_bad"]].any()

    dx = df.set_index(hes.ID_COLUMN)[hes.DIAG_COLUMNS].stack().dropna()
    for name, prefix in (("c787", "C787"), ("c18", "C18"), ("c229", "C229"), ("c22", "C22")):
        ep[name] = dx.str.startswith(prefix).groupby(level=0).any().reindex(ep.index, fill_value=False)

    counts = hes.empty_counts()
    counts["IPG327-01"]["error"] = int(ep["rfa_bad"].sum())
    counts["IPG327-02"]["error"] = int((ep["rfa"] & (ep["c787"] != ep["c18"])).sum())
    counts["HTG532-01"]["error"] = int(ep["ire_bad"].sum())
    ire_no_c229 = ep["ire"] & ~ep["c787"] & ~ep["c229"]
    counts["HTG532-02"]["error"] = int((ire_no_c229 & ~ep["c22"]).sum())
    counts["HTG532-02"]["warning"] = int((ire_no_c229 & ep["c22"]).sum())
    return counts

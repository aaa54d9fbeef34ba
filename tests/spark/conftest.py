"""One Spark session in local mode for every Spark test (starting one takes seconds); skipped, with the reason,
only when pyspark or Java is missing (CI installs both: .ci/run)."""

import shutil
import warnings

import pytest


@pytest.fixture(scope="session")
def spark():
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support", category=FutureWarning)
    pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (pip install '.[spark]')")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime for Spark (Debian: openjdk-17-jre-headless)")
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("coding-audit-tests")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
               .config("spark.sql.session.timeZone", "UTC")
               # small files split into several partitions: rows numbered and duplicates found across them
               .config("spark.sql.files.maxPartitionBytes", "8192").config("spark.sql.files.openCostInBytes", "0")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    assert pyspark
    yield session
    session.stop()

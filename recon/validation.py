"""The Great Expectations gate: every pulled snapshot is validated before it counts.

Suites are JSON files in ``recon/data/expectations/`` (one per kind of data), so the
rules are read and changed without touching code.  A source whose rows fail a
suite is rejected for the night -- its rows are kept, marked not accepted --
and the failing expectation, with GX's own sample of the failing values,
becomes a ``data_rejected`` finding.  Other sources go on.

GX runs offline and quietly: analytics off (set before the import), no
progress bars, an ephemeral context that writes nothing to disk.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from recon.data import EXPECTATIONS

log = logging.getLogger(__name__)


@dataclass
class Failure:
    expectation: str
    column: str | None
    unexpected: list = field(default_factory=list)
    unexpected_count: int | None = None

    def describe(self) -> str:
        where = f" on {self.column}" if self.column else ""
        sample = ", ".join(map(str, self.unexpected[:5]))
        count = f" ({self.unexpected_count} rows)" if self.unexpected_count else ""
        return f"{self.expectation}{where}{count}" + (f": {sample}" if sample else "")


@dataclass
class Verdict:
    suite: str
    success: bool
    failures: list[Failure] = field(default_factory=list)


class Gate:
    """Validates frames against the suites in ``recon/data/expectations/``; build once per run."""

    def __init__(self, expectations_dir: Path = EXPECTATIONS, parameters: dict | None = None):
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
        os.environ.setdefault("TQDM_DISABLE", "1")
        import great_expectations as gx
        from great_expectations.core import ExpectationSuite
        from great_expectations.data_context.types.base import ProgressBarsConfig

        # after the import: GX modules set their own levels
        for name in list(logging.root.manager.loggerDict):
            if name.startswith(("great_expectations", "tzlocal")):
                logging.getLogger(name).setLevel(logging.ERROR)
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False,
                                                                 metric_calculations=False)
        self.parameters = parameters or {}
        self.suites = {}
        for path in sorted(Path(expectations_dir).glob("*.json")):
            spec = json.loads(path.read_text(encoding="utf-8"))
            self.suites[spec["name"]] = ExpectationSuite(**spec)
        source = self.context.data_sources.add_pandas("recon")
        self._batch_def = source.add_dataframe_asset("frame") \
            .add_batch_definition_whole_dataframe("whole")

    def validate(self, suite_name: str, frame: pd.DataFrame) -> Verdict:
        if frame.empty:
            return Verdict(suite_name, True)
        suite = self.suites[suite_name]
        batch = self._batch_def.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(suite, expectation_parameters=self.parameters,
                                result_format="SUMMARY")
        failures = []
        for res in result.results:
            if res.success:
                continue
            cfg = res.expectation_config
            kwargs = cfg.kwargs
            column = kwargs.get("column") or ",".join(kwargs.get("column_list", []) or
                                                      [kwargs.get("column_A", ""),
                                                       kwargs.get("column_B", "")])
            r = res.result or {}
            unexpected = r.get("partial_unexpected_list") or []
            if not unexpected and "observed_value" in r:
                unexpected = [r["observed_value"]]
            if res.exception_info and res.exception_info.get("raised_exception"):
                unexpected = [res.exception_info.get("exception_message")]
            failures.append(Failure(cfg.type, column or None, [_plain(u) for u in unexpected],
                                    r.get("unexpected_count")))
        return Verdict(suite_name, bool(result.success), failures)


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value

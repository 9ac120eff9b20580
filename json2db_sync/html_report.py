"""HTML report stage: the summary and the finance views as one self-contained web page.

Imports stdlib and, only when a report is built, Plotly (the optional ``[report]`` extra).
Takes plain data (the summary dict of :mod:`summary_reporter` and the finance rows the
runner read from the report views) and returns one HTML document: the tables as HTML
tables, the charts drawn by plotly.js, whose whole bundle is inlined in the page, so the
file opens offline, from a mail attachment or a USB stick, with no network at all.

Why Plotly: it is the most widely used, actively maintained charting library with a
Python package that ships its JavaScript bundle (no CDN, no Node toolchain), its charts
are interactive (hover values, zoom, legend toggles, PNG download) which a finance reader
expects, and the Python side needs no NumPy or pandas. The cost is size (about 4.7 MB of
JavaScript in each report, 60 MB installed), hence an optional extra rather than a core
dependency. Static SVG libraries (pygal) would be smaller but need a CDN script for their
tooltips and draw fewer kinds of charts.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import ConfigError

INSTALL_HINT = "pip install 'json2db_sync[report]'"

# Chart ids, in page order (the browser test looks for each).
CHARTS = ("records", "freshness", "runs", "sales", "aging")

_BUCKETS = (
    ("current", "Not yet due", "#2e7d32"),
    ("days_1_30", "1-30 days", "#f9a825"),
    ("days_31_60", "31-60 days", "#ef6c00"),
    ("days_61_90", "61-90 days", "#d84315"),
    ("days_over_90", "Over 90 days", "#b71c1c"),
)


def _plotly() -> Any:
    """plotly.io and plotly.offline, or a clear error naming the extra to install."""
    try:
        import plotly.io as pio
        from plotly.offline import get_plotlyjs
    except ImportError:
        raise ConfigError(
            f"the HTML report draws its charts with Plotly, which is not installed; run {INSTALL_HINT}"
        ) from None
    return pio, get_plotlyjs


def require_plotly() -> str:
    """Fail early (before any database work) when Plotly is missing; returns its version."""
    _plotly()
    import plotly

    return str(plotly.__version__)


def render_html_report(
    report: Mapping[str, Any], finance: Mapping[str, Any], *, generated_at: str, title: str = "json2db_sync report"
) -> str:
    """The whole page. ``report``: summarize_database's dict; ``finance``: the rows of the
    report views by view name (None for a view the database does not have) plus
    ``entity_freshness``."""
    pio, get_plotlyjs = _plotly()
    figures = _figures(report, finance)
    sections = [
        _overview(report, generated_at),
        _section(
            "Records per entity",
            _chart(pio, "records", figures["records"]),
            _table(["Table", "Records", "Columns", "Newest update (UTC)"], _table_rows(report)),
        ),
        _section(
            "Freshness per entity",
            _chart(pio, "freshness", figures["freshness"]),
            _table(
                ["Entity", "Newest data", "Age (hours)", "Files", "Status"],
                [
                    [f["entity"], f["newest_data_timestamp"], f["age_hours"], f["files"], "fresh" if f["is_fresh"] else "stale"]
                    for f in finance.get("entity_freshness") or []
                ],
            ),
        ),
        _section(
            "Last runs",
            _chart(pio, "runs", figures["runs"]),
            _table(
                ["Run", "Operation", "Status", "Started (UTC)", "Seconds", "Records", "Error"],
                [
                    [r.get("run_id"), r.get("operation"), r.get("status"), r.get("started_at"),
                     r.get("duration_seconds"), r.get("records"), r.get("error")]
                    for r in report.get("runs") or []
                ],
            ),
        ),
        _view_section(pio, "Sales by month", "sales", figures, finance, "json2db_sales_by_month"),
        _view_section(pio, "Receivables aging", "aging", figures, finance, "json2db_receivables_aging"),
        _view_section(pio, "Payables aging", None, figures, finance, "json2db_payables_aging"),
        _view_section(pio, "Customer balances", None, figures, finance, "json2db_customer_balances"),
    ]
    script = get_plotlyjs().replace("</script", "<\\/script")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n"
        f"<script>{script}</script>\n</head>\n<body>\n<main>\n"
        f"<h1>{_e(title)}</h1>\n" + "\n".join(sections) + "\n</main>\n</body>\n</html>\n"
    )


# --- charts -------------------------------------------------------------------------------


def _figures(report: Mapping[str, Any], finance: Mapping[str, Any]) -> dict[str, dict[str, Any] | None]:
    return {
        "records": _records_figure(report),
        "freshness": _freshness_figure(finance.get("entity_freshness") or [], report),
        "runs": _runs_figure(report.get("runs") or []),
        "sales": _sales_figure(finance.get("json2db_sales_by_month")),
        "aging": _aging_figure(finance.get("json2db_receivables_aging")),
    }


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    layout = {
        "title": {"text": title},
        "height": 360,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 80},
        "legend": {"orientation": "h"},
    }
    layout.update(extra)
    return layout


def _records_figure(report: Mapping[str, Any]) -> dict[str, Any] | None:
    tables = [t for t in report.get("tables") or [] if not t.get("is_child")]
    if not tables:
        return None
    names = [_entity(t.get("name")) for t in tables]
    return {
        "data": [{"type": "bar", "x": names, "y": [t.get("record_count") or 0 for t in tables], "name": "records",
                  "marker": {"color": "#1565c0"}}],
        "layout": _layout("Records per entity", yaxis={"title": {"text": "records"}}),
    }


def _freshness_figure(rows: Sequence[Mapping[str, Any]], report: Mapping[str, Any]) -> dict[str, Any] | None:
    rows = [r for r in rows if r.get("age_hours") is not None]
    if not rows:
        return None
    limit = (report.get("freshness") or {}).get("max_age_hours")
    layout = _layout("Age of the newest data per entity (hours)", yaxis={"title": {"text": "hours"}})
    if limit is not None:
        layout["shapes"] = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": limit, "y1": limit,
                             "line": {"dash": "dash", "color": "#b71c1c"}}]
    return {
        "data": [{
            "type": "bar",
            "x": [r["entity"] for r in rows],
            "y": [r["age_hours"] for r in rows],
            "marker": {"color": ["#2e7d32" if r.get("is_fresh") else "#b71c1c" for r in rows]},
            "name": "age (hours)",
        }],
        "layout": layout,
    }


def _runs_figure(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    if not runs:
        return None
    ordered = list(reversed(runs))  # oldest first, left to right
    return {
        "data": [{
            "type": "bar",
            "x": [f"#{r.get('run_id')}" for r in ordered],
            "y": [r.get("records") or 0 for r in ordered],
            "hovertext": [f"{r.get('operation')} {r.get('status')} {r.get('started_at')}" for r in ordered],
            "marker": {"color": ["#2e7d32" if r.get("status") == "success" else "#b71c1c" for r in ordered]},
            "name": "records read",
        }],
        "layout": _layout("Records read by the last runs", xaxis={"type": "category"}),
    }


def _sales_figure(rows: Sequence[Mapping[str, Any]] | None) -> dict[str, Any] | None:
    if not rows:
        return None
    several = len({r.get("currency_code") for r in rows}) > 1
    labels = [f"{r.get('month')} {r.get('currency_code')}".strip() if several else str(r.get("month")) for r in rows]
    traces = [
        {"type": "bar", "name": name, "x": labels, "y": [r.get(key) or 0 for r in rows], "marker": {"color": color}}
        for key, name, color in (("invoiced", "Invoiced", "#1565c0"), ("paid", "Paid", "#2e7d32"),
                                 ("outstanding", "Outstanding", "#ef6c00"))
    ]
    return {"data": traces, "layout": _layout("Sales by month", barmode="group", xaxis={"type": "category"})}


def _aging_figure(rows: Sequence[Mapping[str, Any]] | None) -> dict[str, Any] | None:
    if not rows:
        return None
    labels = [f"{r.get('customer_name') or r.get('customer_id')} ({r.get('currency_code')})" for r in rows]
    traces = [
        {"type": "bar", "name": name, "x": labels, "y": [r.get(key) or 0 for r in rows], "marker": {"color": color}}
        for key, name, color in _BUCKETS
    ]
    return {"data": traces, "layout": _layout("Receivables aging per customer", barmode="stack",
                                              xaxis={"type": "category"})}


def _chart(pio: Any, chart_id: str, figure: Mapping[str, Any] | None) -> str:
    if figure is None:
        return f'<p class="empty" id="chart-{chart_id}-empty">No data for this chart yet.</p>'
    div = pio.to_html(
        dict(figure),
        include_plotlyjs=False,
        full_html=False,
        div_id=f"chart-{chart_id}",
        validate=False,
        config={"displaylogo": False, "responsive": True},
    )
    return f'<div class="chart" data-chart="{chart_id}">{div}</div>'


# --- HTML pieces --------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _entity(table_name: object) -> str:
    name = str(table_name or "")
    return name[5:] if name.startswith("json_") else name


def _overview(report: Mapping[str, Any], generated_at: str) -> str:
    freshness = report.get("freshness") or {}
    destination = report.get("destination") or report.get("db_path")
    if isinstance(destination, Mapping):
        destination = destination.get("description") or report.get("db_path")
    if freshness.get("newest_data_timestamp"):
        state = "fresh" if freshness.get("is_fresh") else "stale"
        newest = f"{freshness['newest_data_timestamp']} ({freshness.get('age_hours')} hours old, {state})"
    else:
        newest = "nothing loaded yet"
    tables = report.get("tables") or []
    items = [
        ("Database", destination),
        ("Report made (UTC)", generated_at),
        ("Records", f"{report.get('total_records', 0)} in {sum(1 for t in tables if not t.get('is_child'))} tables"),
        ("Sessions loaded", (report.get("sessions") or {}).get("count", 0)),
        ("Files loaded", report.get("files_loaded", 0)),
        ("Rejected records", report.get("rejected_records", 0)),
        ("Newest data", newest),
    ]
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in items)
    return f'<section id="overview"><h2>Overview</h2><table class="kv">{rows}</table></section>'


def _table_rows(report: Mapping[str, Any]) -> list[list[Any]]:
    return [
        [t.get("name"), t.get("record_count"), t.get("column_count"), t.get("newest_updated_at")]
        for t in report.get("tables") or []
    ]


def _section(title: str, *parts: str) -> str:
    anchor = title.lower().replace(" ", "-")
    return f'<section id="{_e(anchor)}"><h2>{_e(title)}</h2>{"".join(parts)}</section>'


def _view_section(
    pio: Any, title: str, chart_id: str | None, figures: Mapping[str, Any], finance: Mapping[str, Any], view: str
) -> str:
    rows = finance.get(view)
    if rows is None:
        note = (
            f'<p class="empty">The database has no {_e(view)} view: a sync creates it once the tables it '
            "reads hold the columns it needs (see docs/usage.md).</p>"
        )
        return _section(title, note)
    chart = _chart(pio, chart_id, figures.get(chart_id)) if chart_id else ""
    columns = list(rows[0].keys()) if rows else []
    body = _table(columns, [[r.get(c) for c in columns] for r in rows]) if rows else '<p class="empty">No rows.</p>'
    return _section(title, f'<p class="source">From the view <code>{_e(view)}</code>.</p>', chart, body)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    if not rows:
        return '<p class="empty">Nothing recorded yet.</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="{"num" if _is_number(v) else ""}">{_e(_cell(v))}</td>' for v in row) + "</tr>"
        for row in rows
    )
    return f'<div class="table"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1f2933;
       background: #f5f7fa; }
main { max-width: 1200px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 1.6rem; margin: 16px 0; }
h2 { font-size: 1.2rem; margin: 0 0 8px; }
section { background: #fff; border-radius: 8px; padding: 16px; margin: 16px 0;
          box-shadow: 0 1px 3px rgba(0,0,0,.08); }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { padding: 4px 8px; border-bottom: 1px solid #e4e7eb; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.kv th { width: 200px; color: #52606d; font-weight: 600; }
div.table { overflow-x: auto; margin-top: 8px; }
p.empty, p.source { color: #52606d; font-size: .9rem; }
.chart { width: 100%; }
"""


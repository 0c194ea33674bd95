"""Every SQL the dashboards run, as parameterised statements over the published marts.

User input (filters, the search box) only ever travels as named parameters (`$name`); the SQL
text is fixed per query, chosen among constant fragments. Functions here are pure: they return
a `Query` that the caching layer (data.py) or the benchmark executes.

Filters: the date range applies to each fact's own date; region, acquisition channel and segment
are attributes of the person (`marts.customer_360`) and restrict facts to those people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

C360 = "wh.marts.customer_360"
ORDERS = "wh.marts.fct_orders"
TICKETS = "wh.marts.fct_tickets"
CAMPAIGNS = "wh.marts.dim_campaigns"
CAMPAIGN_PERF = "wh.marts.mart_campaign_performance"
# Pre-aggregated marts the pages sum instead of counting distinct people over the facts
# (docs/decisions.md § Dashboards): same numbers, a fraction of the rows.
CAMPAIGN_REACH = "wh.marts.mart_campaign_reach_daily"
ORDER_DAYS = "wh.marts.mart_customer_order_days"
TIMELINE = "wh.marts.mart_customer_timeline"
IDENTITIES = "wh.marts.customer_identities"
RUNS = "wh.quality.runs"
RESULTS = "wh.quality.results"
PUBLICATIONS = "wh.quality.publications"
REJECTS = "wh.ops.rejects"
LOADS = "wh.ops.loads"

# customer_360 columns the global filters read (one place to follow the mart's contract).
FILTER_COLUMNS = {"regions": "region", "channels": "acquisition_channel", "segments": "rfm_segment"}
EVENT_COLUMNS = {
    "sent": "sent",
    "delivered": "delivered",
    "open": "opened",
    "click": "clicked",
    "unsubscribe": "unsubscribed",
    "bounce": "bounced",
    "conversion": "conversions",
}
_PARAM = re.compile(r"\$([a-z_]+)")
STAGES = ("lead", "mql", "sql", "opportunity", "customer")


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    regions: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()

    @property
    def customer_filtered(self) -> bool:
        return bool(self.regions or self.channels or self.segments)

    def previous(self) -> Filters:
        """The period of the same length just before this one (for period-over-period change)."""
        length = self.end - self.start
        end = self.start - timedelta(days=1)
        return Filters(end - length, end, self.regions, self.channels, self.segments)


@dataclass(frozen=True)
class Query:
    sql: str
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def param_dict(self) -> dict[str, Any]:
        return dict(self.params)


def _params(f: Filters, **extra: Any) -> tuple[tuple[str, Any], ...]:
    values: dict[str, Any] = {"start": f.start, "end": f.end}
    for name in FILTER_COLUMNS:
        if getattr(f, name):
            values[name] = list(getattr(f, name))
    values.update(extra)
    return tuple(sorted(values.items()))


def scope(f: Filters, column: str = "customer_key") -> str:
    """`and <column> in (people matching the person filters)`, or nothing when none is set."""
    if not f.customer_filtered:
        return ""
    clauses = [
        f"and {col} = any(${name})" for name, col in FILTER_COLUMNS.items() if getattr(f, name)
    ]
    return f"and {column} in (select customer_key from {C360} where true {' '.join(clauses)})"


def person_filter(f: Filters) -> str:
    """`and <attribute> = any(...)` on a mart that carries customer_360's filter attributes
    itself (the same predicates `scope` applies through customer_360, without the lookup)."""
    return " ".join(
        f"and {col} = any(${name})" for name, col in FILTER_COLUMNS.items() if getattr(f, name)
    )


# A person's first order day in [$start, $end] (mart_customer_order_days): one row per active
# person, so counting rows counts people.
_FIRST_DAY_IN_PERIOD = """
    order_date between $start and $end
    and (previous_order_date is null or previous_order_date < $start)
"""


def _q(sql: str, f: Filters, **extra: Any) -> Query:
    # DuckDB rejects named parameters the statement does not use: pass only the referenced ones.
    used = set(_PARAM.findall(sql))
    return Query(sql, tuple((k, v) for k, v in _params(f, **extra) if k in used))


# --- sidebar -------------------------------------------------------------------------------


def date_bounds() -> Query:
    return Query(
        f"select min(order_date) as first_date, max(order_date) as last_date from {ORDERS}"
    )


def filter_options(name: str) -> Query:
    column = FILTER_COLUMNS[name]
    return Query(
        f"select distinct {column} as value from {C360} where {column} is not null order by 1"
    )


# --- overview ------------------------------------------------------------------------------


def overview_kpis(f: Filters) -> Query:
    """One row of headline KPIs for the period (callers run it for the previous period too).
    People are counted on their first order day in the period (mart_customer_order_days);
    retained = active people whose previous order day falls in the period just before."""
    previous = f.previous()
    first_day = (
        "order_date >= $start and (previous_order_date is null or previous_order_date < $start)"
    )
    return _q(
        f"""
        with days as (
            select *
            from {ORDER_DAYS}
            where order_date between $prev_start and $end {person_filter(f)}
        ),
        customers as (
            select
                coalesce(sum(net_revenue) filter (where order_date >= $start), 0) as revenue,
                cast(coalesce(sum(orders) filter (where order_date >= $start), 0) as bigint)
                    as orders,
                count(*) filter (where {first_day}) as active_customers,
                count(*) filter (
                    where order_date >= $start and previous_order_date is null
                ) as new_customers,
                count(*) filter (
                    where {first_day}
                        and previous_order_date between $prev_start and $prev_end
                )
                    / nullif(count(*) filter (
                        where order_date <= $prev_end
                            and (previous_order_date is null or previous_order_date < $prev_start)
                    ), 0) as retention,
                avg(predicted_clv_12m) filter (where {first_day}) as avg_clv
            from days
        ),
        service as (
            select avg(case when csat_score >= 4 then 1.0 else 0.0 end) as csat
            from {TICKETS}
            where has_csat and created_date between $start and $end {scope(f)}
        ),
        marketing as (
            select sum(spend_reporting) as marketing_spend
            from {CAMPAIGNS}
            where start_date between $start and $end
        )
        select
            customers.revenue,
            customers.orders,
            customers.active_customers,
            customers.new_customers,
            customers.retention,
            service.csat,
            customers.avg_clv,
            marketing.marketing_spend
        from customers, service, marketing
        """,
        f,
        prev_start=previous.start,
        prev_end=previous.end,
    )


def revenue_trend(f: Filters) -> Query:
    return _q(
        f"""
        select
            date_trunc('month', order_date) as month,
            sum(net_revenue) as revenue,
            -- each person once per month: on their first order day in it (and in the period)
            count(*) filter (
                where previous_order_date is null
                    or previous_order_date < greatest(date_trunc('month', order_date), $start)
            ) as active_customers
        from {ORDER_DAYS}
        where order_date between $start and $end {person_filter(f)}
        group by 1 order by 1
        """,
        f,
    )


def csat_trend(f: Filters) -> Query:
    return _q(
        f"""
        select
            date_trunc('month', created_date) as month,
            count(*) as tickets,
            avg(case when csat_score >= 4 then 1.0 else 0.0 end)
                filter (where has_csat) as csat,
            avg(case when is_sla_breached then 1.0 else 0.0 end) as sla_breach_rate
        from {TICKETS}
        where created_date between $start and $end {scope(f)}
        group by 1 order by 1
        """,
        f,
    )


# --- customers & value ---------------------------------------------------------------------

# The page's people are those active in the period: their first order day in it, one row each
# in mart_customer_order_days, which carries every column the page groups or averages on.


def segment_summary(f: Filters) -> Query:
    return _q(
        f"""
        select
            coalesce(rfm_segment, '—') as rfm_segment,
            count(*) as customers,
            sum(customer_net_revenue) as net_revenue,
            avg(predicted_clv_12m) as avg_predicted_clv
        from {ORDER_DAYS}
        where {_FIRST_DAY_IN_PERIOD} {person_filter(f)}
        group by 1 order by customers desc
        """,
        f,
    )


def value_tier_summary(f: Filters) -> Query:
    return _q(
        f"""
        select
            coalesce(value_tier, '—') as value_tier,
            coalesce(churn_risk, '—') as churn_risk,
            count(*) as customers,
            sum(predicted_clv_12m) as predicted_clv
        from {ORDER_DAYS}
        where {_FIRST_DAY_IN_PERIOD} {person_filter(f)}
        group by 1, 2 order by 1, 2
        """,
        f,
    )


def clv_histogram(f: Filters, bins: int) -> Query:
    """Predicted 12-month CLV in equal-width bins up to its 99th percentile (tail in the last)."""
    return _q(
        f"""
        with values as (
            select predicted_clv_12m as clv
            from {ORDER_DAYS}
            where predicted_clv_12m is not null and {_FIRST_DAY_IN_PERIOD} {person_filter(f)}
        ),
        bounds as (
            select greatest(quantile_cont(clv, 0.99), 1e-9) / $bins as width from values
        )
        select
            least(floor(clv / width), $bins - 1) * width as bin_start,
            width,
            count(*) as customers
        from values, bounds
        group by all order by 1
        """,
        f,
        bins=bins,
    )


def customers_at_risk(
    f: Filters, tiers: tuple[str, ...], risks: tuple[str, ...], limit: int
) -> Query:
    """The most valuable active people at risk, picked on the order-days mart (which carries
    their attributes); only those `limit` rows are looked up in customer_360 for name, contact
    details, P(no purchase in 12 months), orders and last order date."""
    return _q(
        f"""
        with at_risk as (
            select
                customer_key, region, acquisition_channel, rfm_segment, value_tier, churn_risk,
                customer_net_revenue, predicted_clv_12m
            from {ORDER_DAYS}
            where value_tier = any($tiers) and churn_risk = any($risks)
                and {_FIRST_DAY_IN_PERIOD} {person_filter(f)}
            order by predicted_clv_12m desc nulls last, customer_key
            limit $limit
        )
        select
            a.customer_key, c.full_name, c.email, c.phone, a.region, a.acquisition_channel,
            a.rfm_segment, a.value_tier, a.churn_risk, c.p_no_purchase_12m, c.orders,
            a.customer_net_revenue as net_revenue, a.predicted_clv_12m, c.last_order_date
        from at_risk as a
        inner join {C360} as c on c.customer_key = a.customer_key
        order by a.predicted_clv_12m desc nulls last, a.customer_key
        """,
        f,
        tiers=list(tiers),
        risks=list(risks),
        limit=limit,
    )


# --- retention -----------------------------------------------------------------------------


def retention_cohorts(f: Filters) -> Query:
    """First-revenue-order month cohorts starting in the period, followed up to its end.
    A person counts once per month: on their first order day in it (mart_customer_order_days)."""
    return _q(
        f"""
        with activity as (
            select
                date_trunc('month', first_order_date) as cohort_month,
                datediff(
                    'month', date_trunc('month', first_order_date), date_trunc('month', order_date)
                ) as months_since,
                count(*) filter (
                    where previous_order_date is null
                        or previous_order_date < date_trunc('month', order_date)
                ) as active_customers,
                sum(net_revenue) as revenue
            from {ORDER_DAYS}
            where order_date <= $end
                and first_order_date >= date_trunc('month', $start::date) {person_filter(f)}
            group by all
        )
        select
            cohort_month,
            months_since,
            first_value(active_customers) over cohort as cohort_size,
            active_customers,
            revenue,
            active_customers / first_value(active_customers) over cohort as customer_retention,
            revenue / nullif(first_value(revenue) over cohort, 0) as revenue_retention
        from activity
        window cohort as (partition by cohort_month order by months_since)
        order by cohort_month, months_since
        """,
        f,
    )


def repeat_purchase(f: Filters) -> Query:
    """Buyers in the period, one row each (their first order day in it); a repeat buyer ordered
    twice that day or has a next order day within the period."""
    return _q(
        f"""
        select
            count(*) as buyers,
            count(*) filter (where orders >= 2 or next_order_date <= $end) as repeat_buyers,
            count(*) filter (where orders >= 2 or next_order_date <= $end)
                / nullif(count(*), 0) as repeat_purchase_rate
        from {ORDER_DAYS}
        where {_FIRST_DAY_IN_PERIOD} {person_filter(f)}
        """,
        f,
    )


# --- funnel --------------------------------------------------------------------------------

_STAGE_COUNTS = ",\n".join(f"count(c.{stage}_at) as reached_{stage}" for stage in STAGES)
_STAGE_DAYS = ",\n".join(
    f"median(datediff('day', c.{a}_at, c.{b}_at)) as median_days_{a}_to_{b}"
    for a, b in pairwise(STAGES)
)


def _funnel(f: Filters, group: str | None, join: str = "") -> Query:
    dims = f"{group}," if group else ""
    group_by = "group by 1 order by reached_lead desc" if group else ""
    return _q(
        f"""
        select
            {dims}
            {_STAGE_COUNTS},
            {_STAGE_DAYS},
            median(datediff('day', c.lead_at, c.customer_at)) as median_days_lead_to_customer
        from {C360} as c
        {join}
        where cast(c.lead_at as date) between $start and $end {scope(f, "c.customer_key")}
        {group_by}
        """,
        f,
    )


def funnel_overall(f: Filters) -> Query:
    return _funnel(f, None)


def funnel_by_channel(f: Filters) -> Query:
    return _funnel(f, "coalesce(c.acquisition_channel, '—') as acquisition_channel")


def funnel_by_campaign(f: Filters) -> Query:
    return _funnel(
        f,
        "coalesce(campaigns.campaign_name, c.acquisition_campaign_id, '—') as acquisition_campaign",
        f"left join {CAMPAIGNS} as campaigns on campaigns.campaign_id = c.acquisition_campaign_id",
    )


# --- service & CSAT ------------------------------------------------------------------------


def service_kpis(f: Filters) -> Query:
    return _q(
        f"""
        select
            count(*) as tickets,
            avg(case when csat_score >= 4 then 1.0 else 0.0 end)
                filter (where has_csat) as csat,
            avg(case when has_csat then 1.0 else 0.0 end) as response_rate,
            median(first_response_business_minutes) as median_frt_minutes,
            median(resolution_business_minutes) as median_resolution_minutes,
            avg(case when is_sla_breached then 1.0 else 0.0 end) as sla_breach_rate,
            avg(case when is_reopened then 1.0 else 0.0 end) as reopen_rate,
            avg(case when is_one_touch then 1.0 else 0.0 end) as one_touch_rate
        from {TICKETS}
        where created_date between $start and $end {scope(f)}
        """,
        f,
    )


def duration_histogram(f: Filters, column: str, bins: int) -> Query:
    """Business hours of `column` in equal bins up to its 95th percentile (tail in the last)."""
    if column not in ("first_response_business_minutes", "resolution_business_minutes"):
        raise ValueError(column)
    return _q(
        f"""
        with durations as (
            select {column} / 60 as hours
            from {TICKETS}
            where {column} is not null and created_date between $start and $end {scope(f)}
        ),
        bounds as (
            select greatest(quantile_cont(hours, 0.95), 1e-6) / $bins as width from durations
        )
        select
            least(floor(hours / width), $bins - 1) * width as hours_from,
            width,
            count(*) as tickets
        from durations, bounds
        group by all order by 1
        """,
        f,
        bins=bins,
    )


def service_breakdown(f: Filters, dimension: str) -> Query:
    if dimension not in ("channel", "category", "agent"):
        raise ValueError(dimension)
    return _q(
        f"""
        select
            coalesce({dimension}, '—') as {dimension},
            count(*) as tickets,
            avg(case when csat_score >= 4 then 1.0 else 0.0 end)
                filter (where has_csat) as csat,
            median(first_response_business_minutes) as median_frt_minutes,
            median(resolution_business_minutes) / 60 as median_resolution_hours,
            avg(case when is_sla_breached then 1.0 else 0.0 end) as sla_breach_rate,
            avg(case when is_reopened then 1.0 else 0.0 end) as reopen_rate
        from {TICKETS}
        where created_date between $start and $end {scope(f)}
        group by 1 order by tickets desc
        """,
        f,
    )


# --- campaigns -----------------------------------------------------------------------------


def campaign_engagement(f: Filters) -> Query:
    """Per campaign: the filtered people touched in the period, and the campaign's spend.
    Counts are distinct people per event type, as in mart_campaign_performance: each person is
    counted on their first day with the event type in the period (mart_campaign_reach_daily)."""
    counts = ",\n".join(
        f"cast(coalesce(sum(people) filter (where event_type = '{kind}'), 0) as bigint) as {name}"
        for kind, name in EVENT_COLUMNS.items()
    )
    return _q(
        f"""
        with touched as (
            select campaign_id, event_type, sum(people) as people
            from {CAMPAIGN_REACH}
            where event_date between $start and $end
                and (previous_event_date is null or previous_event_date < $start)
                {person_filter(f)}
            group by campaign_id, event_type
        ),
        events as (
            select campaign_id, {counts}
            from touched
            group by campaign_id
        )
        select
            c.campaign_id, c.campaign_name, c.channel, c.start_date, c.end_date,
            c.spend_reporting as spend,
            e.sent, e.delivered, e.opened, e.clicked, e.unsubscribed, e.bounced, e.conversions,
            e.delivered / nullif(e.sent, 0) as delivery_rate,
            e.opened / nullif(e.delivered, 0) as open_rate,
            e.clicked / nullif(e.delivered, 0) as click_rate,
            e.unsubscribed / nullif(e.delivered, 0) as unsubscribe_rate,
            e.bounced / nullif(e.sent, 0) as bounce_rate
        from {CAMPAIGNS} as c
        inner join events as e on e.campaign_id = c.campaign_id
        order by spend desc nulls last, c.campaign_id
        """,
        f,
    )


def campaign_performance(f: Filters, columns: frozenset[str]) -> Query:
    """The KPI mart's per-campaign attribution, for campaigns running in the period."""
    wanted = [
        "campaign_id",
        "campaign_name",
        "channel",
        "spend",
        "conversions",
        "first_touch_orders",
        "last_touch_orders",
        "first_touch_revenue",
        "last_touch_revenue",
        "new_customers",
        "customer_acquisition_cost",
        "roi",
    ]
    chosen = ", ".join(column for column in wanted if column in columns)
    return _q(
        f"""
        select {chosen}
        from {CAMPAIGN_PERF}
        where campaign_id in (
            select campaign_id from {CAMPAIGNS}
            where start_date <= $end and coalesce(end_date, start_date) >= $start
        )
        order by 1
        """,
        f,
    )


# --- customer 360 --------------------------------------------------------------------------


def search_customers(f: Filters, text: str, limit: int) -> Query:
    """Customers whose key, name, email, phone digits or a source id contain `text`."""
    pattern = "%" + text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    digits = "".join(ch for ch in text if ch.isdigit())
    return _q(
        f"""
        select customer_key, full_name, email, phone, region, rfm_segment, value_tier,
            orders, net_revenue
        from {C360}
        where (
            customer_key = $exact
            or full_name ilike $pattern escape '\\'
            or email ilike $pattern escape '\\'
            or (length($digits) >= 4
                and regexp_replace(phone, '[^0-9]', '', 'g') like '%' || $digits || '%')
            or customer_key in (
                select customer_key from {IDENTITIES} where source_contact_id = $exact
            )
        ) {scope(f)}
        order by net_revenue desc nulls last, customer_key
        limit $limit
        """,
        f,
        exact=text.strip(),
        pattern=pattern,
        digits=digits,
        limit=limit,
    )


def customer_profile(key: str) -> Query:
    """The person's customer_360 row (it carries the CLV mart's predictions and churn risk)."""
    return Query(
        f"""
        select * from {C360} where customer_key = $key
        """,
        (("key", key),),
    )


def customer_identities(key: str) -> Query:
    return Query(
        f"""
        select source_system, source_contact_id, match_rule
        from {IDENTITIES} where customer_key = $key order by source_system, source_contact_id
        """,
        (("key", key),),
    )


def customer_timeline(key: str, limit: int) -> Query:
    """The person's orders, tickets and campaign touches, newest first (mart_customer_timeline
    is stored by customer_key, so one person's rows are a few row groups)."""
    return Query(
        f"""
        select occurred_at, kind, reference, detail, amount
        from {TIMELINE}
        where customer_key = $key
        order by occurred_at desc
        limit $limit
        """,
        (("key", key), ("limit", limit)),
    )


# --- data quality --------------------------------------------------------------------------


def quality_runs() -> Query:
    return Query(f"select * from {RUNS} order by started_at desc")


def quality_results(run_id: str) -> Query:
    return Query(f"select * from {RESULTS} where run_id = $run_id", (("run_id", run_id),))


def quality_trend() -> Query:
    return Query(
        f"""
        select
            runs.run_id,
            runs.started_at,
            count(*) filter (where not results.success and results.severity = 'critical')
                as failed_critical,
            count(*) filter (where not results.success and results.severity <> 'critical')
                as failed_warning
        from {RUNS} as runs
        left join {RESULTS} as results on results.run_id = runs.run_id
        group by all order by runs.started_at
        """
    )


def last_good_publication(columns: frozenset[str]) -> Query:
    """When the marts being served were published (the last publication that updated them)."""
    where = "where marts_updated" if "marts_updated" in columns else ""
    return Query(f"select * from {PUBLICATIONS} {where} order by published_at desc limit 1")


def rejects_by_reason() -> Query:
    return Query(
        f"""
        select entity, split_part(reason, ':', 1) as reason, count(*) as rows_rejected
        from {REJECTS}
        group by 1, 2 order by rows_rejected desc, 1, 2
        """
    )


def loads() -> Query:
    return Query(f"select * from {LOADS} order by started_at desc")

"""A hand-made published file shaped like the marts (interfaces §B/§C), for the dashboard tests.

Used only while `crm.pipeline.run_pipeline` is not available (then the tests use the real
`published_tiny` warehouse), and to exercise states the pipeline does not produce on demand
(a failed gate). Everything is generated inside DuckDB from a seed.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

SEGMENTS = [
    "Champions",
    "Loyal",
    "Potential Loyalist",
    "New",
    "At Risk",
    "Can't Lose",
    "Hibernating",
    "Lost",
]


def build_sample(
    path: Path, customers: int = 1500, seed: float = 0.42, failed_gate: bool = False
) -> Path:
    """Writes a published-style DuckDB file at `path` (replaced if present)."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute(f"select setseed({seed})")
        _marts(con, customers)
        _quality(con, failed_gate)
    finally:
        con.close()
    return path


def _marts(con: duckdb.DuckDBPyConnection, n: int) -> None:
    segments = "[" + ", ".join("'" + s.replace("'", "''") + "'" for s in SEGMENTS) + "]"
    con.execute("create schema marts")
    con.execute(f"""
        create table marts.customer_360 as
        with base as (
            select
                i,
                'C' || lpad(i::varchar, 7, '0') as customer_key,
                timestamp '2023-01-01' + to_days((random() * 700)::int) as lead_at,
                random() as r1, random() as r2, random() as r3, random() as r4
            from range(1, {n} + 1) t(i)
        )
        select
            customer_key,
            case when i % 3 = 0 then '张' || chr((19968 + i % 500)::int) || '明'
                 else 'Wei' || i || ' Zhang' end as full_name,
            'user' || i || '@example.com' as email,
            '+86 138' || lpad((i * 7919 % 100000000)::varchar, 8, '0') as phone,
            ['华东', '华北', '华南', '西南', 'Europe'][1 + i % 5] as region,
            ['organic_search', 'paid_search', 'social', 'referral', 'wechat', 'store'][1 + i % 6]
                as acquisition_channel,
            case when i % 4 = 0 then 'CMP' || lpad((1 + i % 12)::varchar, 3, '0') end
                as acquisition_campaign_id,
            {segments}[1 + (i * 31) % 8] as rfm_segment,
            ['core', 'potential', 'ordinary'][1 + (i * 17) % 3] as value_tier,
            ['low', 'medium', 'high'][1 + (i * 13) % 3] as churn_risk,
            round(r1, 3) as p_alive,
            round(r2 * 5000, 2)::decimal(18, 2) as predicted_clv_12m,
            lead_at,
            case when r3 < 0.7 then lead_at + to_days((r4 * 20)::int) end as mql_at,
            case when r3 < 0.5 then lead_at + to_days((r4 * 40)::int + 5) end as sql_at,
            case when r3 < 0.35 then lead_at + to_days((r4 * 60)::int + 10) end as opportunity_at,
            case when r3 < 0.25 then lead_at + to_days((r4 * 90)::int + 20) end as customer_at
        from base
    """)
    con.execute("""
        create table marts.fct_orders as
        with o as (
            select
                'O' || lpad(i::varchar, 8, '0') as order_id,
                'C' || lpad((1 + (i * 48271) % (select count(*) from marts.customer_360))::varchar,
                    7, '0') as customer_key,
                ['completed', 'completed', 'completed', 'cancelled', 'refunded']
                    [1 + (random() * 4.99)::int]
                    as order_status,
                ['CNY', 'CNY', 'USD'][1 + i % 3] as currency,
                round(50 + random() * 2000, 2)::decimal(18, 2) as total_amount,
                timestamp '2023-01-01' + to_seconds((random() * 700 * 86400)::bigint) as ordered_at
            from range(1, (select count(*) * 4 from marts.customer_360) + 1) t(i)
        )
        select
            order_id, customer_key, 'shop' as source_system, 'crm' as contact_source_system,
            customer_key as contact_source_id, order_status,
            ['online', 'store', 'partner'][1 + (hash(order_id) % 3)::int] as sales_channel,
            currency,
            total_amount,
            case when currency = 'USD' then 7.1 else 1.0 end as fx_rate_to_reporting,
            (total_amount * fx_rate_to_reporting)::decimal(18, 2) as gross_revenue,
            case when order_status = 'completed' then gross_revenue else 0 end::decimal(18, 2)
                as net_revenue,
            order_status = 'completed' as is_revenue,
            ordered_at,
            cast(ordered_at + interval 8 hour as date) as order_date
        from o
    """)
    con.execute("""
        create or replace table marts.customer_360 as
        select c.*, coalesce(s.orders, 0) as orders, coalesce(s.net_revenue, 0) as net_revenue,
            s.first_order_date, s.last_order_date
        from marts.customer_360 as c
        left join (
            select customer_key, count(*) filter (where is_revenue) as orders,
                sum(net_revenue) as net_revenue, min(order_date) as first_order_date,
                max(order_date) as last_order_date
            from marts.fct_orders group by 1
        ) as s using (customer_key)
    """)
    con.execute("""
        create table marts.mart_clv_predictions as
        select customer_key, 'fit-1' as model_run_id, churn_risk, orders as frequency, p_alive,
            predicted_clv_12m
        from marts.customer_360 where orders > 0
    """)
    con.execute("""
        alter table marts.customer_360 drop column churn_risk;
        alter table marts.customer_360 drop column p_alive;
        alter table marts.customer_360 drop column predicted_clv_12m;
    """)
    con.execute("""
        create table marts.customer_identities as
        select customer_key, s.source_system, s.source_system || '-' || customer_key
            as source_contact_id, case when s.source_system = 'crm' then 'anchor' else 'email' end
            as match_rule
        from marts.customer_360, (values ('crm'), ('web'), ('pos')) as s(source_system)
        where s.source_system = 'crm' or hash(customer_key || s.source_system) % 2 = 0
    """)
    con.execute("""
        create table marts.fct_tickets as
        with t as (
            select
                'T' || lpad(i::varchar, 8, '0') as ticket_id,
                'C' || lpad((1 + (i * 16807) % (select count(*) from marts.customer_360))::varchar,
                    7, '0') as customer_key,
                ['email', 'phone', 'chat', 'wechat', 'web_form'][1 + i % 5] as channel,
                ['billing', 'delivery', 'product', 'account'][1 + (i * 7) % 4] as category,
                ['low', 'normal', 'high', 'urgent'][1 + (i * 3) % 4] as priority,
                'agent_' || (1 + i % 9) as agent,
                case when random() < 0.4 then 1 + (random() * 4.99)::int end as csat_score,
                (random() * 2)::int as reopen_count,
                timestamp '2023-01-01' + to_seconds((random() * 700 * 86400)::bigint) as created_at,
                random() * 600 as frm, random() * 5000 as rm
            from range(1, (select count(*) from marts.customer_360) + 1) t(i)
        )
        select ticket_id, customer_key, channel, category, priority,
            case when rm > 4500 then 'open' else 'solved' end as ticket_status, agent,
            reopen_count, csat_score, frm as first_response_minutes,
            rm as resolution_minutes, frm * 0.6 as first_response_business_minutes,
            rm * 0.6 as resolution_business_minutes, 240 as sla_first_response_minutes,
            2880 as sla_resolution_minutes, frm * 0.6 > 240 as is_sla_breached,
            reopen_count > 0 as is_reopened, reopen_count = 0 and rm < 600 as is_one_touch,
            rm <= 4500 as is_resolved, csat_score is not null as has_csat, created_at,
            created_at + to_minutes(frm::bigint) as first_response_at,
            case when rm <= 4500 then created_at + to_minutes(rm::bigint) end as resolved_at,
            cast(created_at + interval 8 hour as date) as created_date
        from t
    """)
    con.execute("""
        create table marts.dim_campaigns as
        select 'CMP' || lpad(i::varchar, 3, '0') as campaign_id, 'Campaign ' || i as campaign_name,
            ['email', 'sms', 'wechat', 'paid_search', 'social', 'display'][1 + i % 6] as channel,
            'CNY' as currency, (10000 * i)::decimal(18, 2) as budget,
            (9000 * i)::decimal(18, 2) as spend, (9000 * i)::decimal(18, 2) as spend_reporting,
            date '2023-01-01' + (50 * i)::int as start_date,
            date '2023-01-01' + (50 * i + 30)::int as end_date
        from range(1, 13) t(i)
    """)
    con.execute("""
        create table marts.fct_campaign_events as
        select *, cast(occurred_at + interval 8 hour as date) as event_date from (
        select 'E' || lpad(i::varchar, 9, '0') as event_id,
            'CMP' || lpad((1 + i % 12)::varchar, 3, '0') as campaign_id,
            'C' || lpad((1 + (i * 69621) % (select count(*) from marts.customer_360))::varchar,
                7, '0') as customer_key,
            ['sent', 'sent', 'delivered', 'delivered', 'open', 'click', 'unsubscribe', 'bounce',
             'conversion'][1 + (i * 11) % 9] as event_type,
            timestamp '2023-01-01' + to_seconds((random() * 700 * 86400)::bigint) as occurred_at
        from range(1, (select count(*) * 6 from marts.customer_360) + 1) t(i))
    """)
    con.execute("""
        create table marts.mart_campaign_performance as
        select c.campaign_id, c.campaign_name, c.channel, c.spend_reporting as spend,
            count(*) filter (where e.event_type = 'conversion') as conversions,
            count(*) filter (where e.event_type = 'conversion') // 2 as new_customers,
            (c.spend_reporting * 1.8)::decimal(18, 2) as last_touch_revenue,
            (c.spend_reporting * 1.2)::decimal(18, 2) as first_touch_revenue,
            c.spend_reporting / nullif(count(*) filter (where e.event_type = 'conversion') // 2, 0)
                as customer_acquisition_cost,
            0.8 as roi
        from marts.dim_campaigns as c
        left join marts.fct_campaign_events as e using (campaign_id)
        group by c.campaign_id, c.campaign_name, c.channel, c.spend_reporting
    """)


def _quality(con: duckdb.DuckDBPyConnection, failed_gate: bool) -> None:
    con.execute("create schema quality")
    con.execute("create schema ops")
    latest = "failed" if failed_gate else "passed"
    con.execute(f"""
        create table quality.runs as
        select run_id, started_at, started_at + interval 5 minute as finished_at, status,
            40 as checks, 40 - fc - fw as passed, fc as failed_critical, fw as failed_warning,
            '1.24.1' as gx_version, null as data_docs_path
        from (values
            ('run-001', timestamp '2024-12-01 01:00', 'passed', 0, 0),
            ('run-002', timestamp '2024-12-02 01:00', 'warned', 0, 1),
            ('run-003', timestamp '2024-12-03 01:00', '{latest}', {int(failed_gate)}, 1)
        ) v(run_id, started_at, status, fc, fw)
    """)
    con.execute(f"""
        create table quality.results as
        select run_id, suite, check_id, expectation_type, column_name, severity,
            'planted' as description, success, observed_value, 1000 as element_count,
            unexpected_count, unexpected_count / 10 as unexpected_percent,
            '[]'::json as unexpected_sample, '{{}}'::json as kwargs, null as exception
        from (values
            ('run-003', 'marts_customer_360', 'email_not_null',
             'expect_column_values_to_not_be_null', 'email', 'critical', {not failed_gate},
             '0.5', 700),
            ('run-003', 'raw_tickets', 'csat_in_range', 'expect_column_values_to_be_between',
             'csat_score', 'warning', false, '7', 3),
            ('run-003', 'raw_orders', 'order_id_unique', 'expect_column_values_to_be_unique',
             'order_id', 'critical', true, '0', 0),
            ('run-002', 'raw_tickets', 'csat_in_range', 'expect_column_values_to_be_between',
             'csat_score', 'warning', false, '7', 2)
        ) v(run_id, suite, check_id, expectation_type, column_name, severity, success,
            observed_value, unexpected_count)
    """)
    con.execute("""
        create table quality.publications as
        select timestamp '2024-12-02 01:06' as published_at, 'run-002' as run_id
    """)
    con.execute("""
        create table ops.loads as
        select 'L' || i as _load_id, ['contacts', 'orders', 'tickets'][1 + i % 3] as entity,
            'file' || i || '.csv' as file, 'x' as checksum, 100 as rows_read, 98 as rows_loaded,
            2 as rows_rejected, 'loaded' as status,
            timestamp '2024-11-01' + to_days(i) as started_at,
            timestamp '2024-11-01' + to_days(i) + interval 1 minute as finished_at
        from range(1, 10) t(i)
    """)
    con.execute("""
        create table ops.rejects as
        select ['contacts', 'orders', 'tickets'][1 + i % 3] as entity,
            'L' || (1 + i % 9) as _load_id,
            'file.csv' as file, i as source_row, '{}' as record,
            ['malformed_email: email ''x@@y''', 'negative_amount: -3',
             'orphan_reference: C9'][1 + i % 3]
                as reason
        from range(1, 19) t(i)
    """)


def test_sample_has_the_pinned_fact_columns(tmp_path: Path) -> None:
    db = build_sample(tmp_path / "sample.duckdb", customers=50)
    con = duckdb.connect(str(db), read_only=True)
    columns = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns where table_name = 'fct_orders'"
        ).fetchall()
    }
    con.close()
    assert {"order_id", "customer_key", "net_revenue", "is_revenue", "order_date"} <= columns

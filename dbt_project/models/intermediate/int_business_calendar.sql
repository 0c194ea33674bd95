-- One row per day (2022-01-01 .. 2027-12-31, the span of the holiday and FX seeds) in the
-- reporting time zone, with its working window converted to UTC. A day is a working day when
-- it is Monday-Friday and not a public holiday, or when it is a make-up working day (调休).
-- Working hours come from the `business_day_start_hour` / `business_day_end_hour` vars.
{%- set tz = var('reporting_timezone') %}

with holidays as (

    select * from {{ ref('cn_holidays') }}

),

digits as (

    select 0 as digit union all select 1 union all select 2 union all select 3
    union all select 4 union all select 5 union all select 6 union all select 7
    union all select 8 union all select 9

),

day_offsets as (

    select thousands.digit * 1000 + hundreds.digit * 100 + tens.digit * 10 + units.digit as day_offset
    from digits as thousands
    cross join digits as hundreds
    cross join digits as tens
    cross join digits as units

),

days as (

    select
        cast({{ dbt.dateadd('day', 'day_offset', "cast('2022-01-01' as date)") }} as date) as calendar_date
    from day_offsets

),

classified as (

    select
        days.calendar_date,
        -- ISO weekday computed from a known Monday keeps this independent of dialect
        -- conventions for day-of-week numbering (1 = Monday .. 7 = Sunday).
        mod({{ dbt.datediff("cast('2021-12-27' as date)", 'days.calendar_date', 'day') }}, 7) + 1 as iso_weekday,
        holidays.holiday_name,
        holidays.is_working_day as holiday_is_working_day

    from days
    left join holidays
        on holidays.holiday_date = days.calendar_date
    where days.calendar_date <= cast('2027-12-31' as date)

),

final as (

    select
        calendar_date,
        iso_weekday,
        holiday_name,
        coalesce(holiday_is_working_day, iso_weekday <= 5) as is_working_day,
        {{ to_utc(dbt.dateadd('hour', var('business_day_start_hour'), 'cast(calendar_date as timestamp)'), tz) }} as work_start_at,
        {{ to_utc(dbt.dateadd('hour', var('business_day_end_hour'), 'cast(calendar_date as timestamp)'), tz) }} as work_end_at

    from classified

)

select * from final

-- Spot checks of the business calendar against the official 2024 schedule: a make-up working
-- Sunday (2024-02-04) works, Spring Festival weekdays (2024-02-12) and National Day (2024-10-01)
-- do not, an ordinary Saturday does not, and an ordinary Monday works from
-- `business_day_start_hour` local time (converted to UTC).

with calendar as (

    select * from {{ ref('int_business_calendar') }}

),

expected as (

    select cast('2024-02-04' as date) as calendar_date, true as is_working_day
    union all select cast('2024-02-12' as date), false
    union all select cast('2024-10-01' as date), false
    union all select cast('2024-03-02' as date), false
    union all select cast('2024-03-04' as date), true

),

checked as (

    select
        expected.calendar_date,
        expected.is_working_day as expected_is_working_day,
        calendar.is_working_day,
        calendar.work_start_at,
        {{ to_utc(dbt.dateadd('hour', var('business_day_start_hour'), 'cast(expected.calendar_date as timestamp)'), var('reporting_timezone')) }} as expected_work_start_at

    from expected
    left join calendar
        on calendar.calendar_date = expected.calendar_date

)

select * from checked
where is_working_day is distinct from expected_is_working_day
    or work_start_at is distinct from expected_work_start_at

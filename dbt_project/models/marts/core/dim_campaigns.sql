with campaigns as (

    select * from {{ ref('stg_raw__campaigns') }}

),

final as (

    select
        cast(campaign_id as varchar) as campaign_id,
        cast(campaign_name as varchar) as campaign_name,
        cast(channel as varchar) as channel,
        cast(currency as varchar) as currency,
        cast(budget as decimal(18, 2)) as budget,
        cast(spend as decimal(18, 2)) as spend,
        cast(fx_rate_to_reporting as decimal(18, 6)) as fx_rate_to_reporting,
        cast(budget_reporting as decimal(18, 2)) as budget_reporting,
        cast(spend_reporting as decimal(18, 2)) as spend_reporting,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        cast(updated_at as timestamp) as updated_at

    from campaigns

)

select * from final

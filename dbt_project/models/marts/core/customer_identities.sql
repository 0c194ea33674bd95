with contacts as (

    select * from {{ ref('int_contacts_unified') }}

),

final as (

    select
        cast(customer_key as varchar) as customer_key,
        cast(source_system as varchar) as source_system,
        cast(source_contact_id as varchar) as source_contact_id,
        cast(match_rule as varchar) as match_rule

    from contacts

)

select * from final

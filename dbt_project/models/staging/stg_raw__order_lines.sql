{{ config(unique_key='order_line_id') }}

with source as (

    select * from {{ source('raw', 'order_lines') }} as raw_rows
    {{ keys_with_new_versions(source('raw', 'order_lines'), 'raw_rows', ['order_line_id']) }}

),

latest as (

    {{ latest_version('source', ['order_line_id']) }}

),

renamed as (

    select
        trim(order_line_id) as order_line_id,
        trim(order_id) as order_id,
        trim(product_id) as product_id,
        {{ clean_string('product_name') }} as product_name,
        {{ clean_string('category') }} as category,
        line_number,
        quantity,
        unit_price,
        coalesce(discount_amount, 0) as discount_amount,
        cast(quantity * unit_price - coalesce(discount_amount, 0) as decimal(18, 2)) as line_amount,
        _load_id,
        _loaded_at

    from latest

),

final as (

    select
        *,
        {{ run_started_timestamp() }} as _dbt_updated_at

    from renamed

)

select * from final

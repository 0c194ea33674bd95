-- Undirected match graph: one row per ordered pair of contacts sharing a match value, plus a
-- self-loop per contact so that every contact takes part in label propagation. Values are
-- capped in size by int_contact_identifiers, so the pairs stay linear in the contacts.

with contacts as (

    select * from {{ ref('stg_raw__contacts') }}

),

identifiers as (

    select * from {{ ref('int_contact_identifiers') }}

),

pairs as (

    select distinct
        left_side.contact_key,
        right_side.contact_key as neighbour_key,
        left_side.match_type

    from identifiers as left_side
    inner join identifiers as right_side
        on right_side.match_type = left_side.match_type
        and right_side.match_value = left_side.match_value
        and right_side.contact_key <> left_side.contact_key

),

self_loops as (

    select
        contact_key,
        contact_key as neighbour_key,
        'self' as match_type

    from contacts

),

final as (

    select * from pairs
    union all
    select * from self_loops

)

select * from final

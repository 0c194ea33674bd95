{#- Rows of the CTE `candidates` that an incremental fact must (re)write: keys not built yet,
    keys whose source version was loaded after the built one (`_loaded_at` newer), and keys
    whose `watched_columns` changed for another reason (e.g. identity resolution merged two
    persons, so an old order's customer_key moved). Everything else is left untouched, so a
    daily increment rewrites only new and changed rows. On a full build: every candidate. -#}
{% macro incremental_changes(candidates, unique_key, watched_columns=[]) -%}
    {%- if is_incremental() %}
    select {{ candidates }}.*
    from {{ candidates }}
    left join {{ this }} as built
        on built.{{ unique_key }} = {{ candidates }}.{{ unique_key }}
    where built.{{ unique_key }} is null
        or {{ candidates }}._loaded_at > built._loaded_at
        {%- for column in watched_columns %}
        or {{ candidates }}.{{ column }} is distinct from built.{{ column }}
        {%- endfor %}
    {%- else %}
    select * from {{ candidates }}
    {%- endif %}
{%- endmacro %}

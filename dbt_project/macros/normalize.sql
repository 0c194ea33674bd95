{#- Blank or whitespace-only strings become null; everything else is trimmed. -#}
{% macro clean_string(expression) -%}
    nullif(trim({{ expression }}), '')
{%- endmacro %}

{#- Email as a match key: lower case, trimmed; null unless it looks like local@domain.tld.
    For gmail.com / googlemail.com only, dots and a +tag in the local part are removed because
    Gmail delivers all those spellings to one mailbox; other providers may treat them as
    distinct addresses, so rewriting them could merge two people. -#}
{% macro normalize_email(expression) -%}
    {%- set e = "lower(trim(" ~ expression ~ "))" -%}
    {%- set local_part = dbt.split_part(e, "'@'", 1) -%}
    {%- set domain = dbt.split_part(e, "'@'", 2) -%}
    case
        when {{ e }} not like '%_@_%._%' or {{ e }} like '%@%@%' or {{ e }} like '% %' then null
        when {{ domain }} in ('gmail.com', 'googlemail.com') then
            {{ dbt.concat([dbt.replace(dbt.split_part(local_part, "'+'", 1), "'.'", "''"), "'@gmail.com'"]) }}
        else {{ e }}
    end
{%- endmacro %}

{#- Phone in E.164 (+<country><number>), or null when it cannot be read as one.
    Chinese numbers arrive as 138-1234-5678, 138 1234 5678, 8613812345678, 008613812345678,
    +86 138..., (+86)138...; foreign numbers keep their own +country prefix. Numbers without a
    country prefix are taken as Chinese (the home market): 11-digit mobiles 1xxxxxxxxxx and
    landlines with a trunk 0 (021-12345678 -> +862112345678). -#}
{% macro normalize_phone(expression) -%}
    {%- set raw = "trim(" ~ expression ~ ")" -%}
    {%- set digits = regexp_replace_all(expression, "[^0-9]", "") -%}
    {%- set has_plus = "(" ~ raw ~ " like '+%' or " ~ raw ~ " like '(+%')" -%}
    case
        when {{ expression }} is null or {{ dbt.length(digits) }} < 7 then null
        when {{ has_plus }} then {{ dbt.concat(["'+'", digits]) }}
        when {{ digits }} like '0086%' then {{ dbt.concat(["'+86'", "substr(" ~ digits ~ ", 5)"]) }}
        when {{ digits }} like '00%' then {{ dbt.concat(["'+'", "substr(" ~ digits ~ ", 3)"]) }}
        when {{ digits }} like '861%' and {{ dbt.length(digits) }} = 13
            then {{ dbt.concat(["'+'", digits]) }}
        when {{ digits }} like '1%' and {{ dbt.length(digits) }} = 11
            then {{ dbt.concat(["'+86'", digits]) }}
        when {{ digits }} like '0%' and {{ dbt.length(digits) }} between 10 and 12
            then {{ dbt.concat(["'+86'", "substr(" ~ digits ~ ", 2)"]) }}
    end
{%- endmacro %}

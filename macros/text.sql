{#-
  Text primitives of ENGINE §1 as DuckDB SQL expressions, identical to the Python reference
  (udfs/_text.py, normative) on every input: tests/python/features/test_feat_text.py checks
  every code point in the contexts that matter and arbitrary unicode text (hypothesis).

  The expressions of ENGINE §1.3 are the starting point. The catalogue checked them against
  Python with DuckDB 2.0; with Python 3.11.7 (Unicode tables 14.0) and DuckDB 1.5.5 (RE2 and
  utf8proc at Unicode 15.0) they differ in four places, which these macros reconcile:
  1. WORDCHAR: RE2's [\p{L}\p{N}_] also matches 4,388 letters and digits new in Unicode 15.0
     (Kawi, Nag Mundari, CJK extension H, ...) that Python's \w does not: they are turned into
     separators before the word runs are taken (class text_cls_u15_word).
  2. NFC: ten combining marks new in Unicode 15.0 have a non-zero combining class in DuckDB,
     while Python treats them as unassigned starters (no reordering, no composition across
     them), and DuckDB's nfc_normalize stops at U+0000 (the rest of the text is lost). The
     text is normalised piece by piece around these eleven code points, which are starters
     for Python and compose with nothing (class text_cls_nfc_split).
  3. lower(): Python's str.lower applies the Final_Sigma rule (Σ → ς at the end of a word),
     DuckDB's lower() never does (`ΟΔΟΣ`: DuckDB `οδοσ`, Python `οδος`). The rule is applied
     before lower() with Python's own Cased / Case_Ignorable classes (text_cls_cased = Cased
     and not Case_Ignorable, text_cls_case_ignorable).
  4. U+0130 (the one §1.3 knew): İ is replaced by I before NFC; an İ that NFC composes from
     I + U+0307 afterwards lowers to i + U+0307 as in Python (DuckDB would give plain i).

  The class constants are generated from Python's `re`/`str.lower` and DuckDB itself
  (test_feat_text.py: generate_classes); a test fails when either side changes its tables.

  Public macros (arguments are SQL expressions of type VARCHAR; NULL is not mapped to ''):
    text_nfc(x)              nfc(x)
    text_norm(x)             norm(x) = lower(nfc(x with İ → I))
    text_tokens(x)           tokens(x): the maximal WORDCHAR runs of norm(x)
    text_tokens_cased(x)     tokens_cased(x): the runs of nfc(x)
    text_sentences(x)        sentences(x): pieces of nfc(x) cut at [.!?]+ holding a WORDCHAR
    text_n_chars(x)          code points of nfc(x)
  Staged forms (feat_text evaluates each step once):
    text_lower_nfc(n)        norm from an already NFC-normalised, İ-replaced string n
    text_word_runs(s)        WORDCHAR runs of s (no normalisation)
    text_has_word(s)         s contains a WORDCHAR
    text_sentence_pieces(n)  sentences from an already NFC-normalised string n
    text_is_plain(x)         x holds none of the code points reconciled here; then nfc(x) = x,
                             norm(x) = lower(x), and the text_plain_* forms apply
    text_plain_word_runs(s), text_plain_has_word(s), text_plain_sentence_pieces(s)
  And text_distinct_batches(relation, column, batch_size): the distinct texts of a relation in
  lists of about batch_size, the input of the batch UDFs of udfs/lexicon.py.
-#}

{%- macro text_cls_u15_word() -%}
    1123F-11240 11F02 11F04-11F10 11F12-11F33 11F50-11F59 1342F 13441-13446 1B132 1B155 1D2C0-1D2D3
    1DF25-1DF2A 1E030-1E06D 1E4D0-1E4EB 1E4F0-1E4F9 2B739 31350-323AF
{%- endmacro %}

{%- macro text_cls_nfc_split() -%}
    0 10EFD-10EFF 11F41-11F42 1E08F 1E4EC-1E4EF
{%- endmacro %}

{%- macro text_cls_nfc_unsafe() -%}
    300-34E 350-36F 374 37E 387 483-487 591-5BD 5BF 5C1-5C2 5C4-5C5 5C7 610-61A 64B-65F 670 6D6-6DC
    6DF-6E4 6E7-6E8 6EA-6ED 711 730-74A 7EB-7F3 7FD 816-819 81B-823 825-827 829-82D 859-85B 898-89F
    8CA-8E1 8E3-8FF 93C 94D 951-954 958-95F 9BC 9BE 9CD 9D7 9DC-9DD 9DF 9FE A33 A36 A3C A4D A59-A5B
    A5E ABC ACD B3C B3E B4D B56-B57 B5C-B5D BBE BCD BD7 C3C C4D C55-C56 CBC CC2 CCD CD5-CD6 D3B-D3C
    D3E D4D D57 DCA DCF DDF E38-E3A E48-E4B EB8-EBA EC8-ECB F18-F19 F35 F37 F39 F43 F4D F52 F57 F5C
    F69 F71-F76 F78 F7A-F7D F80-F84 F86-F87 F93 F9D FA2 FA7 FAC FB9 FC6 102E 1037 1039-103A 108D
    1161-1175 11A8-11C2 135D-135F 1714-1715 1734 17D2 17DD 18A9 1939-193B 1A17-1A18 1A60 1A75-1A7C
    1A7F 1AB0-1ABD 1ABF-1ACE 1B34-1B35 1B44 1B6B-1B73 1BAA-1BAB 1BE6 1BF2-1BF3 1C37 1CD0-1CD2
    1CD4-1CE0 1CE2-1CE8 1CED 1CF4 1CF8-1CF9 1DC0-1DFF 1F71 1F73 1F75 1F77 1F79 1F7B 1F7D 1FBB 1FBE
    1FC9 1FCB 1FD3 1FDB 1FE3 1FEB 1FEE-1FEF 1FF9 1FFB 1FFD 2000-2001 20D0-20DC 20E1 20E5-20F0 2126
    212A-212B 2329-232A 2ADC 2CEF-2CF1 2D7F 2DE0-2DFF 302A-302F 3099-309A A66F A674-A67D A69E-A69F
    A6F0-A6F1 A806 A82C A8C4 A8E0-A8F1 A92B-A92D A953 A9B3 A9C0 AAB0 AAB2-AAB4 AAB7-AAB8 AABE-AABF
    AAC1 AAF6 ABED F900-FA0D FA10 FA12 FA15-FA1E FA20 FA22 FA25-FA26 FA2A-FA6D FA70-FAD9 FB1D-FB1F
    FB2A-FB36 FB38-FB3C FB3E FB40-FB41 FB43-FB44 FB46-FB4E FE20-FE2F 101FD 102E0 10376-1037A 10A0D
    10A0F 10A38-10A3A 10A3F 10AE5-10AE6 10D24-10D27 10EAB-10EAC 10F46-10F50 10F82-10F85 11046 11070
    1107F 110B9-110BA 11100-11102 11127 11133-11134 11173 111C0 111CA 11235-11236 112E9-112EA
    1133B-1133C 1133E 1134D 11357 11366-1136C 11370-11374 11442 11446 1145E 114B0 114BA 114BD
    114C2-114C3 115AF 115BF-115C0 1163F 116B6-116B7 1172B 11839-1183A 11930 1193D-1193E 11943 119E0
    11A34 11A47 11A99 11C3F 11D42 11D44-11D45 11D97 16AF0-16AF4 16B30-16B36 16FF0-16FF1 1BC9E
    1D15E-1D169 1D16D-1D172 1D17B-1D182 1D185-1D18B 1D1AA-1D1AD 1D1BB-1D1C0 1D242-1D244 1E000-1E006
    1E008-1E018 1E01B-1E021 1E023-1E024 1E026-1E02A 1E130-1E136 1E2AE 1E2EC-1E2EF 1E8D0-1E8D6
    1E944-1E94A 2F800-2FA1D
{%- endmacro %}

{%- macro text_cls_cased() -%}
    41-5A 61-7A AA B5 BA C0-D6 D8-F6 F8-1BA 1BC-1BF 1C4-293 295-2AF 370-373 376-377 37B-37D 37F 386
    388-38A 38C 38E-3A1 3A3-3F5 3F7-481 48A-52F 531-556 560-588 10A0-10C5 10C7 10CD 10D0-10FA
    10FD-10FF 13A0-13F5 13F8-13FD 1C80-1C88 1C90-1CBA 1CBD-1CBF 1D00-1D2B 1D6B-1D77 1D79-1D9A
    1E00-1F15 1F18-1F1D 1F20-1F45 1F48-1F4D 1F50-1F57 1F59 1F5B 1F5D 1F5F-1F7D 1F80-1FB4 1FB6-1FBC
    1FBE 1FC2-1FC4 1FC6-1FCC 1FD0-1FD3 1FD6-1FDB 1FE0-1FEC 1FF2-1FF4 1FF6-1FFC 2102 2107 210A-2113
    2115 2119-211D 2124 2126 2128 212A-212D 212F-2134 2139 213C-213F 2145-2149 214E 2160-217F
    2183-2184 24B6-24E9 2C00-2C7B 2C7E-2CE4 2CEB-2CEE 2CF2-2CF3 2D00-2D25 2D27 2D2D A640-A66D
    A680-A69B A722-A76F A771-A787 A78B-A78E A790-A7CA A7D0-A7D1 A7D3 A7D5-A7D9 A7F5-A7F6 A7FA
    AB30-AB5A AB60-AB68 AB70-ABBF FB00-FB06 FB13-FB17 FF21-FF3A FF41-FF5A 10400-1044F 104B0-104D3
    104D8-104FB 10570-1057A 1057C-1058A 1058C-10592 10594-10595 10597-105A1 105A3-105B1 105B3-105B9
    105BB-105BC 10C80-10CB2 10CC0-10CF2 118A0-118DF 16E40-16E7F 1D400-1D454 1D456-1D49C 1D49E-1D49F
    1D4A2 1D4A5-1D4A6 1D4A9-1D4AC 1D4AE-1D4B9 1D4BB 1D4BD-1D4C3 1D4C5-1D505 1D507-1D50A 1D50D-1D514
    1D516-1D51C 1D51E-1D539 1D53B-1D53E 1D540-1D544 1D546 1D54A-1D550 1D552-1D6A5 1D6A8-1D6C0
    1D6C2-1D6DA 1D6DC-1D6FA 1D6FC-1D714 1D716-1D734 1D736-1D74E 1D750-1D76E 1D770-1D788 1D78A-1D7A8
    1D7AA-1D7C2 1D7C4-1D7CB 1DF00-1DF09 1DF0B-1DF1E 1E900-1E943 1F130-1F149 1F150-1F169 1F170-1F189
{%- endmacro %}

{%- macro text_cls_case_ignorable() -%}
    27 2E 3A 5E 60 A8 AD AF B4 B7-B8 2B0-36F 374-375 37A 384-385 387 483-489 559 55F 591-5BD 5BF
    5C1-5C2 5C4-5C5 5C7 5F4 600-605 610-61A 61C 640 64B-65F 670 6D6-6DD 6DF-6E8 6EA-6ED 70F 711
    730-74A 7A6-7B0 7EB-7F5 7FA 7FD 816-82D 859-85B 888 890-891 898-89F 8C9-902 93A 93C 941-948 94D
    951-957 962-963 971 981 9BC 9C1-9C4 9CD 9E2-9E3 9FE A01-A02 A3C A41-A42 A47-A48 A4B-A4D A51
    A70-A71 A75 A81-A82 ABC AC1-AC5 AC7-AC8 ACD AE2-AE3 AFA-AFF B01 B3C B3F B41-B44 B4D B55-B56
    B62-B63 B82 BC0 BCD C00 C04 C3C C3E-C40 C46-C48 C4A-C4D C55-C56 C62-C63 C81 CBC CBF CC6 CCC-CCD
    CE2-CE3 D00-D01 D3B-D3C D41-D44 D4D D62-D63 D81 DCA DD2-DD4 DD6 E31 E34-E3A E46-E4E EB1 EB4-EBC
    EC6 EC8-ECD F18-F19 F35 F37 F39 F71-F7E F80-F84 F86-F87 F8D-F97 F99-FBC FC6 102D-1030 1032-1037
    1039-103A 103D-103E 1058-1059 105E-1060 1071-1074 1082 1085-1086 108D 109D 10FC 135D-135F
    1712-1714 1732-1733 1752-1753 1772-1773 17B4-17B5 17B7-17BD 17C6 17C9-17D3 17D7 17DD 180B-180F
    1843 1885-1886 18A9 1920-1922 1927-1928 1932 1939-193B 1A17-1A18 1A1B 1A56 1A58-1A5E 1A60 1A62
    1A65-1A6C 1A73-1A7C 1A7F 1AA7 1AB0-1ACE 1B00-1B03 1B34 1B36-1B3A 1B3C 1B42 1B6B-1B73 1B80-1B81
    1BA2-1BA5 1BA8-1BA9 1BAB-1BAD 1BE6 1BE8-1BE9 1BED 1BEF-1BF1 1C2C-1C33 1C36-1C37 1C78-1C7D
    1CD0-1CD2 1CD4-1CE0 1CE2-1CE8 1CED 1CF4 1CF8-1CF9 1D2C-1D6A 1D78 1D9B-1DFF 1FBD 1FBF-1FC1
    1FCD-1FCF 1FDD-1FDF 1FED-1FEF 1FFD-1FFE 200B-200F 2018-2019 2024 2027 202A-202E 2060-2064
    2066-206F 2071 207F 2090-209C 20D0-20F0 2C7C-2C7D 2CEF-2CF1 2D6F 2D7F 2DE0-2DFF 2E2F 3005
    302A-302D 3031-3035 303B 3099-309E 30FC-30FE A015 A4F8-A4FD A60C A66F-A672 A674-A67D A67F
    A69C-A69F A6F0-A6F1 A700-A721 A770 A788-A78A A7F2-A7F4 A7F8-A7F9 A802 A806 A80B A825-A826 A82C
    A8C4-A8C5 A8E0-A8F1 A8FF A926-A92D A947-A951 A980-A982 A9B3 A9B6-A9B9 A9BC-A9BD A9CF A9E5-A9E6
    AA29-AA2E AA31-AA32 AA35-AA36 AA43 AA4C AA70 AA7C AAB0 AAB2-AAB4 AAB7-AAB8 AABE-AABF AAC1 AADD
    AAEC-AAED AAF3-AAF4 AAF6 AB5B-AB5F AB69-AB6B ABE5 ABE8 ABED FB1E FBB2-FBC2 FE00-FE0F FE13
    FE20-FE2F FE52 FE55 FEFF FF07 FF0E FF1A FF3E FF40 FF70 FF9E-FF9F FFE3 FFF9-FFFB 101FD 102E0
    10376-1037A 10780-10785 10787-107B0 107B2-107BA 10A01-10A03 10A05-10A06 10A0C-10A0F 10A38-10A3A
    10A3F 10AE5-10AE6 10D24-10D27 10EAB-10EAC 10F46-10F50 10F82-10F85 11001 11038-11046 11070
    11073-11074 1107F-11081 110B3-110B6 110B9-110BA 110BD 110C2 110CD 11100-11102 11127-1112B
    1112D-11134 11173 11180-11181 111B6-111BE 111C9-111CC 111CF 1122F-11231 11234 11236-11237 1123E
    112DF 112E3-112EA 11300-11301 1133B-1133C 11340 11366-1136C 11370-11374 11438-1143F 11442-11444
    11446 1145E 114B3-114B8 114BA 114BF-114C0 114C2-114C3 115B2-115B5 115BC-115BD 115BF-115C0
    115DC-115DD 11633-1163A 1163D 1163F-11640 116AB 116AD 116B0-116B5 116B7 1171D-1171F 11722-11725
    11727-1172B 1182F-11837 11839-1183A 1193B-1193C 1193E 11943 119D4-119D7 119DA-119DB 119E0
    11A01-11A0A 11A33-11A38 11A3B-11A3E 11A47 11A51-11A56 11A59-11A5B 11A8A-11A96 11A98-11A99
    11C30-11C36 11C38-11C3D 11C3F 11C92-11CA7 11CAA-11CB0 11CB2-11CB3 11CB5-11CB6 11D31-11D36 11D3A
    11D3C-11D3D 11D3F-11D45 11D47 11D90-11D91 11D95 11D97 11EF3-11EF4 13430-13438 16AF0-16AF4
    16B30-16B36 16B40-16B43 16F4F 16F8F-16F9F 16FE0-16FE1 16FE3-16FE4 1AFF0-1AFF3 1AFF5-1AFFB
    1AFFD-1AFFE 1BC9D-1BC9E 1BCA0-1BCA3 1CF00-1CF2D 1CF30-1CF46 1D167-1D169 1D173-1D182 1D185-1D18B
    1D1AA-1D1AD 1D242-1D244 1DA00-1DA36 1DA3B-1DA6C 1DA75 1DA84 1DA9B-1DA9F 1DAA1-1DAAF 1E000-1E006
    1E008-1E018 1E01B-1E021 1E023-1E024 1E026-1E02A 1E130-1E13D 1E2AE 1E2EC-1E2EF 1E8D0-1E8D6
    1E944-1E94B 1F3FB-1F3FF E0001 E0020-E007F E0100-E01EF
{%- endmacro %}

{#- hex code points / ranges ("41-5A 61") as the body of an RE2 character class -#}
{%- macro text_re_class(hex_ranges) -%}
{%- for item in hex_ranges.split() -%}
{%- set bounds = item.split('-') -%}
{{ '\\x{' ~ bounds[0] ~ '}' }}{% if bounds | length > 1 %}{{ '-\\x{' ~ bounds[1] ~ '}' }}{% endif %}
{%- endfor -%}
{%- endmacro %}

{%- macro text_nfc(x) -%}
{%- set split = text_re_class(text_cls_nfc_split()) -%}
(case
    when not regexp_matches({{ x }}, '[{{ text_re_class(text_cls_nfc_unsafe()) }}{{ split }}]')
        then {{ x }}
    when regexp_matches({{ x }}, '[{{ split }}]')
        then array_to_string(
            list_transform(
                regexp_extract_all({{ x }}, '[^{{ split }}]+|[{{ split }}]'),
                lambda nfc_piece: nfc_normalize(nfc_piece)
            ),
            ''
        )
    else nfc_normalize({{ x }})
end)
{%- endmacro %}

{%- macro text_final_sigma(n) -%}
{%- set cased = text_re_class(text_cls_cased()) -%}
{%- set ign = text_re_class(text_cls_case_ignorable()) -%}
(case
    when contains({{ n }}, 'Σ')
        then regexp_replace(
            {{ n }},
            '([{{ cased }}])([{{ ign }}]*)Σ([{{ ign }}]*(?:[^{{ cased }}{{ ign }}]|$))',
            '\1\2ς\3',
            'g'
        )
    else {{ n }}
end)
{%- endmacro %}

{%- macro text_lower_nfc(n) -%}
lower(replace({{ text_final_sigma(n) }}, 'İ', 'i' || chr(775)))
{%- endmacro %}

{%- macro text_word_runs(s) -%}
list_filter(
    string_split_regex(
        regexp_replace({{ s }}, '[{{ text_re_class(text_cls_u15_word()) }}]', ' ', 'g'),
        '[^\p{L}\p{N}_]+'
    ),
    lambda word_run: word_run <> ''
)
{%- endmacro %}

{%- macro text_has_word(s) -%}
regexp_matches(
    regexp_replace({{ s }}, '[{{ text_re_class(text_cls_u15_word()) }}]', '', 'g'),
    '[\p{L}\p{N}_]'
)
{%- endmacro %}

{%- macro text_sentence_pieces(n) -%}
list_filter(
    regexp_split_to_array({{ n }}, '[.!?]+'),
    lambda sentence_piece: {{ text_has_word('sentence_piece') }}
)
{%- endmacro %}

{%- macro text_norm(x) -%}
{{ text_lower_nfc(text_nfc("replace(" ~ x ~ ", 'İ', 'I')")) }}
{%- endmacro %}

{%- macro text_tokens(x) -%}
{{ text_word_runs(text_norm(x)) }}
{%- endmacro %}

{%- macro text_tokens_cased(x) -%}
{{ text_word_runs(text_nfc(x)) }}
{%- endmacro %}

{%- macro text_sentences(x) -%}
{{ text_sentence_pieces(text_nfc(x)) }}
{%- endmacro %}

{%- macro text_n_chars(x) -%}
length({{ text_nfc(x) }})
{%- endmacro %}

{#- Plain text: none of the code points the reconciliation above is about (NFC-unsafe, the
    NFC split points, Unicode-15 word characters, U+0130, U+03A3). For a plain string x and
    every substring of it: nfc(x) = x, norm(x) = lower(x) (DuckDB = Python), and the
    WORDCHAR runs are those of [\p{L}\p{N}_]. feat_text takes this short path when it holds. -#}
{%- macro text_is_plain(x) -%}
not regexp_matches(
    {{ x }},
    '[{{ text_re_class(text_cls_nfc_unsafe()) }}{{ text_re_class(text_cls_nfc_split()) }}{{ text_re_class(text_cls_u15_word()) }}\x{130}\x{3A3}]'
)
{%- endmacro %}

{%- macro text_plain_word_runs(s) -%}
list_filter(string_split_regex({{ s }}, '[^\p{L}\p{N}_]+'), lambda word_run: word_run <> '')
{%- endmacro %}

{%- macro text_plain_has_word(s) -%}
regexp_matches({{ s }}, '[\p{L}\p{N}_]')
{%- endmacro %}

{%- macro text_plain_sentence_pieces(s) -%}
list_filter(
    regexp_split_to_array({{ s }}, '[.!?]+'),
    lambda sentence_piece: {{ text_plain_has_word('sentence_piece') }}
)
{%- endmacro %}

{#- tokens(piece) for every piece of sentences(text), in order (the "tokens per sentence" of
    m4_flow and m5_coh), from feat_text's stored sentences and nfc(text). Every piece is a
    substring of nfc(text): when nfc(text) is plain, so is every piece, and its tokens are the
    plain word runs of lower(piece); any other text takes text_tokens per piece. metrics_core
    computes this where it reads it: stored in feat_text, the nested list cost a quarter of that
    model's time at 1M turns. -#}
{%- macro text_sentence_tokens(sentences, text_nfc) -%}
case
    when {{ text_is_plain(text_nfc) }}
        then list_transform(
            {{ sentences }},
            lambda sentence_piece: {{ text_plain_word_runs('lower(sentence_piece)') }}
        )
    else list_transform(
        {{ sentences }},
        lambda sentence_piece: {{ text_tokens('sentence_piece') }}
    )
end
{%- endmacro %}

{#- The distinct values of `column` of `relation` as lists of about `batch_size` texts, one
    list per row (column `texts`): the input of the batch UDFs (udfs/lexicon.py), which work
    text by text, so how the texts fall into batches never changes a result. DuckDB hands a
    UDF up to 2048 rows at once, so one call holds up to 2048 * batch_size texts: with 2048 a
    row, every text of a 2M-turn history went to one worker in one call (8.8 GB for the
    process tree); with 256, a call holds at most about 0.5M texts, whatever the history. -#}
{%- macro text_distinct_batches(relation, column='text', batch_size=256) -%}
select
    list(batch_text) as texts
from (
    select
        batch_text,
        count(*) over () as n_texts
    from (select distinct {{ column }} as batch_text from {{ relation }})
)
group by hash(batch_text) % greatest(1, ceil(n_texts / {{ batch_size }}))::ubigint
{%- endmacro %}

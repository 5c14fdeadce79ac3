"""Model cards: what a model is, how it does per slice, where it falls short, what it relies on
and how it compares with the model it replaces, from its evaluation, validation, explanations and
lineage. JSON with the Model Card Toolkit's field names (schema v0.0.2), Markdown and HTML.

    evaluation dir (+ validation dir, + decision trail) --load_inputs--> CardInputs
        --model_card--> MCT-shaped dict --render_markdown / render_card_html--> text
"""

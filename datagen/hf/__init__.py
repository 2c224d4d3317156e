"""Local Hugging Face models, below both the teachers and the trainer: the student backend
(datagen/backends/student.py), `datagen train` (finetune/) and the reward-model scorer (filters/) load
models through here and nowhere else.

Public API (datagen.hf.models): resolve_model (a folder or a .gguf, converted once and cached),
load_tokenizer (ChatML when the model has no template), load_model, load_student (a model, optionally with
a LoRA, prefix or IA3 adapter), base_of (an adapter's base, from its provenance.json), read_source,
cache_root, CHATML_TEMPLATE; datagen.hf.prefix_generate.install (a prefix-tuned student generates with its
prefix under transformers 5).
"""

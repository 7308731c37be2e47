/* fuzz_tokenizers.h — small tokenizers written for the fuzz harnesses, one
 * of each kind distilc reads: a WordPiece vocab.txt and tokenizer.json
 * files for WordPiece (BERT), byte-level BPE (RoBERTa), Unigram with
 * Metaspace (XLM-R, ALBERT) and SentencePiece BPE with byte fallback
 * (Llama-style). They are the seeds of fuzz_vocab_txt and
 * fuzz_tokenizer_json, and the fixed tokenizers fuzz_tokenize encodes
 * with. Each is tiny but uses the components its family's real files use
 * (normalizer sequences, added tokens, templates). */
#ifndef DISTILC_FUZZ_TOKENIZERS_H
#define DISTILC_FUZZ_TOKENIZERS_H

/* BERT's specials first, then words, word pieces, punctuation, an accent,
 * CJK and an emoji. */
static const char FUZZ_VOCAB_TXT[] =
    "[PAD]\n[unused0]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n"
    "the\nquick\nbrown\nfox\njump\n##s\n##ed\n##ing\nover\nlazy\ndog\n"
    "un\n##aff\n##able\nnaive\ncafe\n.\n,\n!\n?\n'\n\"\n-\n(\n)\n"
    "\xE4\xB8\xAD\n\xE6\x96\x87\n\xF0\x9F\x98\x80\n1\n##2\n##3\na\n##b\nb\n";

static const char FUZZ_TOK_WORDPIECE_JSON[] =
    "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,"
    "\"added_tokens\":["
    "{\"id\":0,\"content\":\"[PAD]\",\"single_word\":false,\"lstrip\":false,"
    "\"rstrip\":false,\"normalized\":false,\"special\":true},"
    "{\"id\":5,\"content\":\"[MASK]\",\"single_word\":false,\"lstrip\":false,"
    "\"rstrip\":false,\"normalized\":false,\"special\":true}],"
    "\"normalizer\":{\"type\":\"BertNormalizer\",\"clean_text\":true,"
    "\"handle_chinese_chars\":true,\"strip_accents\":null,\"lowercase\":true},"
    "\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"},"
    "\"post_processor\":{\"type\":\"TemplateProcessing\","
    "\"single\":[{\"SpecialToken\":{\"id\":\"[CLS]\",\"type_id\":0}},"
    "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},"
    "{\"SpecialToken\":{\"id\":\"[SEP]\",\"type_id\":0}}],"
    "\"pair\":[{\"SpecialToken\":{\"id\":\"[CLS]\",\"type_id\":0}},"
    "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},"
    "{\"SpecialToken\":{\"id\":\"[SEP]\",\"type_id\":0}},"
    "{\"Sequence\":{\"id\":\"B\",\"type_id\":1}},"
    "{\"SpecialToken\":{\"id\":\"[SEP]\",\"type_id\":1}}],"
    "\"special_tokens\":{\"[CLS]\":{\"id\":\"[CLS]\",\"ids\":[3],\"tokens\":[\"[CLS]\"]},"
    "\"[SEP]\":{\"id\":\"[SEP]\",\"ids\":[4],\"tokens\":[\"[SEP]\"]}}},"
    "\"decoder\":{\"type\":\"WordPiece\",\"prefix\":\"##\",\"cleanup\":true},"
    "\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\","
    "\"continuing_subword_prefix\":\"##\",\"max_input_chars_per_word\":20,"
    "\"vocab\":{\"[PAD]\":0,\"[unused0]\":1,\"[UNK]\":2,\"[CLS]\":3,\"[SEP]\":4,"
    "\"[MASK]\":5,\"the\":6,\"fox\":7,\"jump\":8,\"##s\":9,\"##ed\":10,"
    "\"un\":11,\"##aff\":12,\"##able\":13,\".\":14,\",\":15,\"\\u4e2d\":16}}}";

/* Byte-level BPE: Ġ (U+0120) marks a space; <mask> strips to its left. */
static const char FUZZ_TOK_BPE_JSON[] =
    "{\"version\":\"1.0\",\"added_tokens\":["
    "{\"id\":0,\"content\":\"<s>\",\"single_word\":false,\"lstrip\":false,"
    "\"rstrip\":false,\"normalized\":true,\"special\":true},"
    "{\"id\":2,\"content\":\"</s>\",\"single_word\":false,\"lstrip\":false,"
    "\"rstrip\":false,\"normalized\":true,\"special\":true},"
    "{\"id\":11,\"content\":\"<mask>\",\"single_word\":false,\"lstrip\":true,"
    "\"rstrip\":false,\"normalized\":false,\"special\":true}],"
    "\"normalizer\":null,"
    "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
    "\"trim_offsets\":true,\"use_regex\":true},"
    "\"post_processor\":{\"type\":\"RobertaProcessing\",\"sep\":[\"</s>\",2],"
    "\"cls\":[\"<s>\",0],\"trim_offsets\":true,\"add_prefix_space\":false},"
    "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,"
    "\"continuing_subword_prefix\":\"\",\"end_of_word_suffix\":\"\","
    "\"fuse_unk\":false,\"byte_fallback\":false,"
    "\"vocab\":{\"<s>\":0,\"<pad>\":1,\"</s>\":2,\"<unk>\":3,\"t\":4,\"h\":5,"
    "\"e\":6,\"\\u0120\":7,\"th\":8,\"the\":9,\"\\u0120the\":10,\"<mask>\":11,"
    "\"a\":12,\"!\":13,\"\\u010a\":14},"
    "\"merges\":[\"t h\",\"th e\",[\"\\u0120\",\"the\"]]}}";

/* Unigram with a normalizer sequence and Metaspace, as XLM-R writes it. */
static const char FUZZ_TOK_UNIGRAM_JSON[] =
    "{\"version\":\"1.0\",\"added_tokens\":["
    "{\"id\":0,\"content\":\"<s>\",\"single_word\":false,\"lstrip\":false,"
    "\"rstrip\":false,\"normalized\":false,\"special\":true},"
    "{\"id\":2,\"content\":\"</s>\",\"single_word\":false,\"lstrip\":false,"
    "\"rstrip\":false,\"normalized\":false,\"special\":true}],"
    "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":["
    "{\"type\":\"NFKC\"},{\"type\":\"Lowercase\"},{\"type\":\"Strip\","
    "\"strip_left\":true,\"strip_right\":true},"
    "{\"type\":\"Replace\",\"pattern\":{\"Regex\":\" {2,}\"},\"content\":\" \"},"
    "{\"type\":\"StripAccents\"}]},"
    "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":["
    "{\"type\":\"WhitespaceSplit\"},{\"type\":\"Metaspace\","
    "\"replacement\":\"\\u2581\",\"prepend_scheme\":\"always\",\"split\":true}]},"
    "\"post_processor\":{\"type\":\"TemplateProcessing\","
    "\"single\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},"
    "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},"
    "{\"SpecialToken\":{\"id\":\"</s>\",\"type_id\":0}}],"
    "\"pair\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},"
    "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},"
    "{\"SpecialToken\":{\"id\":\"</s>\",\"type_id\":0}},"
    "{\"SpecialToken\":{\"id\":\"</s>\",\"type_id\":0}},"
    "{\"Sequence\":{\"id\":\"B\",\"type_id\":0}},"
    "{\"SpecialToken\":{\"id\":\"</s>\",\"type_id\":0}}],"
    "\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[0],\"tokens\":[\"<s>\"]},"
    "\"</s>\":{\"id\":\"</s>\",\"ids\":[2],\"tokens\":[\"</s>\"]}}},"
    "\"model\":{\"type\":\"Unigram\",\"unk_id\":3,\"byte_fallback\":false,"
    "\"vocab\":[[\"<s>\",0.0],[\"<pad>\",0.0],[\"</s>\",0.0],[\"<unk>\",0.0],"
    "[\"\\u2581\",-2.5],[\"\\u2581the\",-1.5],[\"the\",-3.0],[\"a\",-2.0],"
    "[\"b\",-2.2],[\"ab\",-2.9],[\"\\u2581a\",-1.8],[\"cafe\",-4.0],"
    "[\"\\u4e2d\",-5.0]]}}";

/* SentencePiece BPE with byte fallback (<0xNN> pieces), Prepend + Replace
 * normalizers and no pre-tokenizer, as Llama-style files have it. */
static const char FUZZ_TOK_SPBPE_JSON[] =
    "{\"version\":\"1.0\",\"added_tokens\":["
    "{\"id\":0,\"content\":\"<unk>\",\"single_word\":false,\"lstrip\":false,"
    "\"rstrip\":false,\"normalized\":false,\"special\":true},"
    "{\"id\":1,\"content\":\"<s>\",\"single_word\":false,\"lstrip\":false,"
    "\"rstrip\":false,\"normalized\":false,\"special\":true}],"
    "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":["
    "{\"type\":\"Prepend\",\"prepend\":\"\\u2581\"},"
    "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\\u2581\"}]},"
    "\"pre_tokenizer\":null,"
    "\"post_processor\":{\"type\":\"TemplateProcessing\","
    "\"single\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},"
    "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],"
    "\"pair\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},"
    "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},"
    "{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":1}},"
    "{\"Sequence\":{\"id\":\"B\",\"type_id\":1}}],"
    "\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[1],\"tokens\":[\"<s>\"]}}},"
    "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":\"<unk>\","
    "\"continuing_subword_prefix\":null,\"end_of_word_suffix\":null,"
    "\"fuse_unk\":true,\"byte_fallback\":true,"
    "\"vocab\":{\"<unk>\":0,\"<s>\":1,\"<0x00>\":2,\"<0x0A>\":3,\"<0xC3>\":4,"
    "\"<0xA9>\":5,\"<0xE2>\":6,\"\\u2581\":7,\"t\":8,\"h\":9,\"e\":10,"
    "\"\\u2581t\":11,\"he\":12,\"\\u2581the\":13},"
    "\"merges\":[\"\\u2581 t\",\"h e\",\"\\u2581t he\"]}}";

#endif

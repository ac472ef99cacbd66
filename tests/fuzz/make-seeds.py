#!/usr/bin/env python3
"""Writes the seed corpus of the GGUF fuzz target (small valid files).

Run once from the repository root; the outputs are committed:
    python3 tests/fuzz/make-seeds.py tests/fuzz/corpus
"""
import struct
import sys

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i",
          F32: "<f", BOOL: "<B", U64: "<Q", I64: "<q", F64: "<d"}
# type id -> (block elems, block bytes)
BLOCK = {0: (1, 4), 1: (1, 2), 30: (1, 2), 8: (32, 34), 2: (32, 18),
         12: (256, 144), 14: (256, 210)}


def gstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def value(t, v):
    if t == STR:
        return gstr(v)
    if t == ARR:
        et, items = v
        out = struct.pack("<IQ", et, len(items))
        return out + b"".join(value(et, x) for x in items)
    return struct.pack(SCALAR[t], v)


def gguf(kvs, tensors, version=3, align=32):
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for k, t, v in kvs:
        out += gstr(k) + struct.pack("<I", t) + value(t, v)
    offset, blobs = 0, []
    for name, ttype, ne in tensors:
        be, bb = BLOCK[ttype]
        n = 1
        for d in ne:
            n *= d
        size = n // be * bb
        out += gstr(name) + struct.pack("<I", len(ne))
        out += b"".join(struct.pack("<Q", d) for d in ne)
        out += struct.pack("<IQ", ttype, offset)
        blobs.append((offset, bytes((i * 37) & 0xff for i in range(size))))
        offset = (offset + size + align - 1) // align * align
    out += b"\0" * ((align - len(out) % align) % align)
    data = bytearray(offset)
    for off, blob in blobs:
        data[off:off + len(blob)] = blob
    return out + bytes(data)


def main(dest):
    tokens = ["<unk>", "<s>", "</s>", "<0x0A>", "\u2581the", "\u2581a", "e"]
    vocab = [
        ("general.architecture", STR, "llama"),
        ("llama.embedding_length", U32, 64),
        ("llama.rope.freq_base", F32, 10000.0),
        ("tokenizer.ggml.model", STR, "llama"),
        ("tokenizer.ggml.tokens", ARR, (STR, tokens)),
        ("tokenizer.ggml.scores", ARR, (F32, [0.0, 0.0, 0.0, 0.0, -1.0, -2.0, -3.0])),
        ("tokenizer.ggml.token_type", ARR, (I32, [2, 3, 3, 6, 1, 1, 1])),
        ("tokenizer.ggml.add_bos_token", BOOL, 1),
    ]
    seeds = {
        "vocab-only.gguf": gguf(vocab, []),
        "mini-model.gguf": gguf(vocab, [("token_embd.weight", 8, [64, 7]),
                                        ("output_norm.weight", 0, [64]),
                                        ("blk.0.ffn_down.weight", 12, [256, 2]),
                                        ("blk.0.attn_v.weight", 14, [256, 1]),
                                        ("blk.0.attn_q.weight", 2, [64, 2])]),
        "mmproj.gguf": gguf([("general.architecture", STR, "clip"),
                             ("clip.projector_type", STR, "ldpv2"),
                             ("clip.use_gelu", BOOL, 1),
                             ("clip.vision.image_mean", ARR, (F32, [0.5, 0.5, 0.5]))],
                            [("v.patch_embd.weight", 1, [2, 2, 3, 4]),
                             ("v.class_embd", 0, [4]),
                             ("mm.model.peg.0.weight", 30, [3, 3, 1, 4])]),
        "all-types.gguf": gguf([("a.%d" % t, t, v) for t, v in
                                [(U8, 1), (I8, -1), (U16, 2), (I16, -2), (U32, 3),
                                 (I32, -3), (F32, 0.5), (BOOL, 0), (STR, "s"),
                                 (U64, 4), (I64, -4), (F64, 0.25)]] +
                               [("a.arr", ARR, (U16, [1, 2, 3]))], []),
        "aligned-64-v2.gguf": gguf([("general.alignment", U32, 64)],
                                   [("x", 0, [3]), ("y", 1, [5, 2])],
                                   version=2, align=64),
        "empty-tables.gguf": gguf([], []),
    }
    for name, data in seeds.items():
        with open("%s/%s" % (dest, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")

"""Reference embedding throughput: the same ONNX file and texts as `studydesk-bench`, run by
Python onnxruntime, so the Rust pipeline's speed can be stated as a ratio.

usage: bench_embed.py MODEL_DIR TEXTS_JSON THREADS
TEXTS_JSON is a JSON list of strings (already prefixed "passage: "). Batches are formed the way
StudyDesk forms them (sorted by length, 16 per batch) so that both sides pad alike. Prints one
JSON object: {"texts", "tokens", "seconds", "tokens_per_s"}.
"""
import json
import os
import sys
import time

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

BATCH = 16


def main():
    model_dir, texts_path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    texts = json.load(open(texts_path, encoding="utf-8"))
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(os.path.join(model_dir, "model.onnx"), so, providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.enable_padding(pad_id=1, pad_token="<pad>")
    tok.enable_truncation(max_length=512)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    batches = [[texts[i] for i in order[j:j + BATCH]] for j in range(0, len(order), BATCH)]

    def run(batch):
        enc = tok.encode_batch(batch)
        ids = np.array([e.ids for e in enc], np.int64)
        mask = np.array([e.attention_mask for e in enc], np.int64)
        (h,) = sess.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask})
        m = mask[:, :, None].astype(np.float32)
        v = (h * m).sum(1) / np.maximum(m.sum(1), 1.0)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        return int(mask.sum())

    run(batches[0])  # warm-up
    start = time.perf_counter()
    tokens = sum(run(b) for b in batches)
    seconds = time.perf_counter() - start
    print(json.dumps({"texts": len(texts), "tokens": tokens, "seconds": seconds, "tokens_per_s": tokens / seconds}))


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Runs inside the emulated Raspberry Pi OS 64-bit userland of ../shared/tools/pi-arm64-smoke.sh
# (project mounted at /project): base install, no TensorFlow, read the test images, classify the
# bundled sample with every bundled model, and a quick benchmark. Usage, from the repository:
#   sudo ../shared/tools/pi-arm64-smoke.sh . edge_runtime/models/mnist_int8.tflite \
#       bash /project/benchmarks/pi_smoke.sh
set -euo pipefail
cd /tmp
python3 -m pip install -q /project
python3 -c "import platform, sys; import digitedge.edge_runtime.reader; \
print(platform.machine(), 'tensorflow loaded:', 'tensorflow' in sys.modules, \
'keras loaded:', 'keras' in sys.modules)"
digitedge --version
for f in /project/tests/data/*.png /project/tests/data/*.jpg; do
    echo "$f: $(digitedge read "$f" | tr '\n' ' ')"
done
python3 - <<'PY'
from digitedge.edge_runtime.manifest import BUNDLED_MODELS
from digitedge.edge_runtime.model import TFLiteModel
from digitedge.train.data import SAMPLE_PATH, load_npz

d = load_npz(SAMPLE_PATH)
for name, path in BUNDLED_MODELS.items():
    m = TFLiteModel(path)
    acc = (m.predict(d.x_test).argmax(1) == d.y_test).mean()
    print(f"{name}: {m.backend.name} {m.backend.version}, 1,000-digit sample accuracy {acc:.3f}")
PY
digitedge bench --quick --scenes 5 --frames 5 --out /tmp/pibench | tail -1

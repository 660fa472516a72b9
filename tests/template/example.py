"""Writes DIR/template.yaml: template.yaml with a fleet of three streams and two keys as its defaults, so that
cfn-lint and `sam validate --lint` lint the fleet's expansion too (`make template-lint`). The streams and keys are
the ones tests/template/fleet.py checks the processed template with."""

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from fleet import THREE, TEMPLATE, TWO_KEYS  # noqa: E402


def with_default(text, name, value):
    pattern = rf"(\n  {name}:\n    Type: CommaDelimitedList\n    Default: )\"\""
    out, n = re.subn(pattern, lambda m: f'{m.group(1)}"{value}"', text)
    if n != 1:
        sys.exit(f"template.yaml: parameter {name} with an empty default not found")
    return out


def main(out_dir):
    text = Path(TEMPLATE).read_text()
    text = with_default(text, "DasStreamArns", ",".join(THREE))
    text = with_default(text, "DasKmsKeyArns", ",".join([TWO_KEYS[0], TWO_KEYS[1], TWO_KEYS[0]]))
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    Path(out_dir, "template.yaml").write_text(text)


if __name__ == "__main__":
    main(sys.argv[1])

"""The engine's plan (docs/development.md): its sub-packages and top-level modules in layers, each importing only
from lower layers, so the import graph has no cycle; and the plugin's imports of the engine visible to static
analysis (``geoseg_qgis.training`` is the folder training/ beside the plugin in a checkout)."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = [  # low to high; a node imports only from layers below its own
    ["errors", "progress"],
    ["architectures", "outputs"],
    ["config"],
    ["rows", "host"],
    ["data"],
    ["jobs", "models"],
    ["reports"],
    ["learn", "inference", "products"],
    ["worker"],
    ["cli"],
    ["__main__"],
    ["geoseg_qgis"],
]
RANK = {node: rank for rank, nodes in enumerate(LAYERS) for node in nodes}


def node_of(module: str) -> str:
    """``training.data.raster`` → ``data``; ``training.config`` → ``config``; the plugin is one node."""
    parts = module.split(".")
    if parts[0] == "geoseg_qgis":
        return "training" if module == "geoseg_qgis.training" else (
            node_of(module[len("geoseg_qgis."):]) if parts[1:2] == ["training"] else "geoseg_qgis")
    return parts[1] if len(parts) > 1 else "training"


def imports() -> dict[tuple[str, str], set[str]]:
    """(importing node, imported node) → the files whose imports (module level or inside functions) make it."""
    found = {}
    for path in sorted([*ROOT.glob("training/**/*.py"), *ROOT.glob("geoseg_qgis/**/*.py")]):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for statement in ast.walk(ast.parse(path.read_text())):
            if isinstance(statement, ast.ImportFrom) and statement.level:
                base = package.split(".")[:len(package.split(".")) - statement.level + 1]
                targets = [".".join(base + ([statement.module] if statement.module else []) + [alias.name])
                           for alias in statement.names]
            elif isinstance(statement, (ast.Import, ast.ImportFrom)):
                targets = [statement.module] if isinstance(statement, ast.ImportFrom) else [
                    alias.name for alias in statement.names]
            else:
                continue
            for target in targets:
                if target.split(".")[0] in ("training", "geoseg_qgis") and node_of(target) != "training":
                    pair = node_of(module), node_of(target)
                    if pair[0] != pair[1]:
                        found.setdefault(pair, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_node_has_a_layer():
    nodes = {path.stem if path.is_file() else path.name for path in (ROOT / "training").iterdir()
             if path.suffix == ".py" and path.stem != "__init__" or path.is_dir() and (path / "__init__.py").exists()}
    assert nodes | {"geoseg_qgis"} == set(RANK)


IMPORTS = imports()


@pytest.mark.parametrize("pair", sorted(IMPORTS), ids="->".join)
def test_imports_go_down_the_layers_only(pair):
    importer, imported = pair
    files = sorted(IMPORTS[pair])
    assert RANK[imported] < RANK[importer], f"{importer} imports {imported} (a layer not below it) in {files}"


def test_the_plugin_imports_the_engine_and_the_engine_never_the_plugin():
    assert {"jobs", "config", "host"} <= {imported for importer, imported in IMPORTS if importer == "geoseg_qgis"}
    assert not any(imported == "geoseg_qgis" for _, imported in IMPORTS)

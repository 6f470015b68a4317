"""How samg's modules depend on each other: no import cycles (a module's function-level
imports count too), and a step two stages share lives below both."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "samg"


def _imports() -> dict[str, set[str]]:
    files = {".".join(f.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): f
             for f in PACKAGE.rglob("*.py")}  # fmt: skip
    graph = {}
    for name, path in files.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        graph[name] = {module for module in found if module in files and module != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}  # visiting / done

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = "visiting"
        for dependency in sorted(graph[module]):
            if state.get(dependency) == "visiting":
                return [*path[path.index(dependency) :], dependency] if dependency in path else [module, dependency]
            if dependency not in state and (cycle := visit(dependency, [*path, dependency])):
                return cycle
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module, [module])):
            return cycle
    return None


def test_no_module_imports_itself_through_others():
    assert _cycle(_imports()) is None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_online_rl_steps_and_evaluates_without_imitation_learning_modules():
    graph = _imports()
    for module in ("samg.rl.env", "samg.rl.train"):
        assert not {m for m in graph[module] if m.startswith("samg.il.") and m != "samg.il.config"}, module

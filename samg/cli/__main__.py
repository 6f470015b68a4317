from samg.cli import app

app(prog_name="samg")

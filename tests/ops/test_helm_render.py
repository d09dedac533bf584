"""scripts/helm-render's template engine on small templates whose Helm
output is known (Go text/template and Sprig semantics)."""

import importlib.machinery
import importlib.util
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PATH = os.path.join(HERE, "..", "..", "scripts", "helm-render")
loader = importlib.machinery.SourceFileLoader("helm_render", PATH)
spec = importlib.util.spec_from_loader("helm_render", loader)
hr = importlib.util.module_from_spec(spec)
loader.exec_module(hr)


def render(text, values=None, release="rel"):
    root = {"Values": values or {}, "Release": {"Name": release, "Namespace": "ns"},
            "Chart": {"Name": "c", "Version": "1.0.0", "AppVersion": "2.0"},
            "Template": {"BasePath": "c/templates"}}
    r = hr.Renderer(root)
    r.add_file("c/templates/t.yaml", text)
    return r.render_file("c/templates/t.yaml")


@pytest.mark.parametrize("value,text", [
    (3, "3"), (3600, "3600"), (604800, "604800"), (1000000, "1e+06"), (1234567, "1.234567e+06"),
    (0.5, "0.5"), (0.0001, "0.0001"), (0.00001, "1e-05"), (2.5, "2.5"), (-7, "-7"), (0, "0"),
    (True, "true"), (None, ""),
])
def test_values_print_like_go(value, text):
    assert render("{{ .Values.v }}", {"v": value}) == text


def test_trim_markers_and_comments():
    assert render("a  {{- 1 -}}  \n b") == "a1b"
    assert render("a\n{{/* note */}}\nb") == "a\n\nb"
    assert render("x:\n  {{- if true }}\n  y: 1\n  {{- end }}\n") == "x:\n  y: 1\n"


def test_control_flow_and_functions():
    t = ('{{- range $k, $v := .Values.m }}{{ $k }}={{ $v | quote }};{{ end }}'
         '{{ with .Values.missing }}no{{ else }}else{{ end }}'
         '{{ if .Values.f }}a{{ else if .Values.t }}b{{ else }}c{{ end }}')
    assert render(t, {"m": {"b": 2, "a": "x"}, "f": False, "t": True}) == 'a="x";b="2";elseb'
    assert render('{{ "abc" | trunc 2 }}{{ "x-" | trimSuffix "-" }}{{ printf "%s-%d" "a" 3 }}') \
        == "abxa-3"
    assert render('{{ .Values.m | toYaml | nindent 2 }}', {"m": {"b": [1, 2], "a": {}}}) \
        == "\n  a: {}\n  b:\n  - 1\n  - 2"
    assert render('{{ default "d" .Values.x }}{{ default "d" "v" }}') == "dv"
    assert render('{{ "s" | b64enc }}') == "cw=="
    with pytest.raises(hr.TemplateError, match="cannot read .x of str"):
        render('{{ (printf "%s" "a").x }}')  # Go: can't evaluate field x in type string


def test_define_include_and_required():
    t = '{{- define "n" -}}{{ .Release.Name }}-{{ .Chart.Name }}{{- end -}}[{{ include "n" . }}]'
    assert render(t) == "[rel-c]"
    with pytest.raises(hr.TemplateError, match="need it"):
        render('{{ required "need it" .Values.nope }}')
    with pytest.raises(hr.TemplateError, match="not supported"):
        render('{{ lookup "v1" "Secret" "ns" "x" }}')

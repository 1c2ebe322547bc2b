#!/usr/bin/env python3
"""Checks openapi.yaml: valid OpenAPI, every $ref resolves, every example fits its schema,
and each error response's codes are the ones the description's tables give its status.

openapi-spec-validator checks the document's structure but neither follows references to
examples nor validates examples, and an example that contradicts its schema misleads every
reader and every generated client, so this script does both.

Usage: tools/check_openapi.py [PATH]   (default: openapi.yaml at the repository root)
Needs openapi-spec-validator (which brings PyYAML and openapi-schema-validator); exits 1
and names each problem when the document has any.
"""

import re
import sys
from pathlib import Path

import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def resolve(document, reference):
    """The node a local reference such as '#/components/schemas/Score' points at."""
    if not reference.startswith("#/"):
        raise KeyError(f"{reference} is not a reference inside the document")
    node = document
    for token in reference[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or token not in node:
            raise KeyError(f"{reference} points at nothing")
        node = node[token]
    return node


def dereferenced(document, node, trail=()):
    """`node` with every $ref replaced by what it points at (the document has no cycles)."""
    if isinstance(node, list):
        return [dereferenced(document, item, trail) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        reference = node["$ref"]
        if reference in trail:
            raise KeyError(f"{reference} refers to itself through {' -> '.join(trail)}")
        return dereferenced(document, resolve(document, reference), trail + (reference,))
    return {key: dereferenced(document, value, trail) for key, value in node.items()}


def unresolved_references(document, node, where="#"):
    """Every $ref below `node` that points at nothing, with where it was found."""
    problems = []
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            try:
                resolve(document, node["$ref"])
            except KeyError as error:
                problems.append(f"{where}: {error.args[0]}")
        for key, value in node.items():
            token = str(key).replace("~", "~0").replace("/", "~1")
            problems += unresolved_references(document, value, f"{where}/{token}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            problems += unresolved_references(document, value, f"{where}/{index}")
    return problems


def examples_with_schemas(document):
    """(where, example, schema) for every example given next to a schema: in media types,
    parameters, headers and the schemas themselves."""

    def of_holder(where, holder):
        # A media type, parameter or header: `example`, or named `examples` with a `value`.
        holder = dereferenced(document, holder)
        schema = holder.get("schema")
        if schema is None:
            return
        if "example" in holder:
            yield where, holder["example"], schema
        for name, example in holder.get("examples", {}).items():
            if "value" in example:
                yield f"{where}/examples/{name}", example["value"], schema

    def of_responses(where, responses):
        for status, response in responses.items():
            response = dereferenced(document, response)
            for name, header in response.get("headers", {}).items():
                yield from of_holder(f"{where}/responses/{status}/headers/{name}", header)
            for media_type, content in response.get("content", {}).items():
                yield from of_holder(f"{where}/responses/{status}/content/{media_type}", content)

    for path, item in document.get("paths", {}).items():
        for index, parameter in enumerate(item.get("parameters", [])):
            yield from of_holder(f"paths/{path}/parameters/{index}", parameter)
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            where = f"paths/{path}/{method}"
            for index, parameter in enumerate(operation.get("parameters", [])):
                yield from of_holder(f"{where}/parameters/{index}", parameter)
            body = dereferenced(document, operation.get("requestBody", {}))
            for media_type, content in body.get("content", {}).items():
                yield from of_holder(f"{where}/requestBody/content/{media_type}", content)
            yield from of_responses(where, operation.get("responses", {}))

    components = document.get("components", {})
    for name, schema in components.get("schemas", {}).items():
        if "example" in schema:
            yield f"components/schemas/{name}", schema["example"], schema
    for kind in ("parameters", "headers"):
        for name, holder in components.get(kind, {}).items():
            yield from of_holder(f"components/{kind}/{name}", holder)
    yield from of_responses("components", components.get("responses", {}))


def example_problems(document):
    problems = []
    for where, example, schema in examples_with_schemas(document):
        validator = OAS30Validator(dereferenced(document, schema), format_checker=oas30_format_checker)
        for error in validator.iter_errors(example):
            location = "/".join(str(part) for part in error.absolute_path) or "(the example itself)"
            problems.append(f"{where}: example at {location}: {error.message}")
    return problems


def documented_error_codes(document):
    """{status: codes} from the rows `| 400 | `code`, … |` of the description's tables."""
    table = {}
    for line in document["info"].get("description", "").splitlines():
        row = re.match(r"\|\s*([1-5][0-9]{2})\s*\|(.*)\|\s*$", line.strip())
        if row:
            table.setdefault(int(row.group(1)), set()).update(re.findall(r"`([a-z0-9_]+)`", row.group(2)))
    return table


def error_code_problems(document):
    """Each error response must list exactly the codes the tables give its status."""
    table = documented_error_codes(document)
    problems = []
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            for status, response in item.get(method, {}).get("responses", {}).items():
                if not str(status).isdigit() or int(status) < 400:
                    continue
                response = dereferenced(document, response)
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                codes = set()
                for part in schema.get("allOf", [schema]):
                    code = part.get("properties", {}).get("error", {}).get("properties", {}).get("code", {})
                    codes.update(code.get("enum", []))
                expected = table.get(int(status), set())
                if codes != expected:
                    problems.append(
                        f"{method.upper()} {path} {status}: the schema's codes {sorted(codes)} are not the "
                        f"description's {sorted(expected)}")
    return problems


def main():
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "openapi.yaml"
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        print(f"{path}: cannot be read as YAML: {error}", file=sys.stderr)
        return 1
    try:
        validate(document)
    except OpenAPIValidationError as error:
        where = "/".join(str(part) for part in error.absolute_path)
        print(f"{path}: not a valid OpenAPI document: at {where}: {error.message}", file=sys.stderr)
        return 1
    problems = unresolved_references(document, document)
    if not problems:
        problems = example_problems(document) + error_code_problems(document)
    for problem in problems:
        print(f"{path}: {problem}", file=sys.stderr)
    if problems:
        return 1
    checked = sum(1 for _ in examples_with_schemas(document))
    print(
        f"{path.name}: valid OpenAPI {document['openapi']}; references resolve; examples fit their schemas "
        f"({checked} places checked); error codes match the description")
    return 0


if __name__ == "__main__":
    sys.exit(main())

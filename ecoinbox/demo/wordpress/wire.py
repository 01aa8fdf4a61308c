def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _ids(values: list[str]) -> set[int]:
    found: set[int] = set()
    for value in values:
        for part in value.split(","):
            number = _int(part)
            if number is not None:
                found.add(number)
    return found


def _bounded(value: str, name: str, low: int, high: int) -> int:
    number = _int(value)
    if number is None or not low <= number <= high:
        raise _invalid_param(name, f"{name} must be between {low} ({'inclusive'}) and {high} (inclusive)")
    return number


def _invalid_param(name: str, detail: str) -> WpError:
    error = WpError(400, "rest_invalid_param", f"Invalid parameter(s): {name}")
    error.body["data"]["params"] = {name: detail}  # type: ignore[index]
    return error


def _with_page(query: Mapping[str, str], page: int) -> str:
    from urllib.parse import urlencode

    pairs = [(k, v) for k, v in query.items() if k != "page"] + [("page", str(page))]
    return urlencode(pairs)


def _denied(user: _User | None) -> int:
    """rest_authorization_required_code(): 401 when not logged in, 403 when not allowed."""
    return 403 if user is not None else 401


def _logged_in(request: web.Request) -> _User:
    user: _User | None = request[_USER]
    if user is None:
        raise WpError(401, "rest_not_logged_in", "You are not currently logged in.")
    return user


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except ValueError:
            raise WpError(400, "rest_invalid_json", "Invalid JSON body passed.") from None
        return data if isinstance(data, dict) else {}
    form = await request.post()
    return {key: form.get(key) for key in form}


def _error(error: WpError) -> web.Response:
    return json_response(error.body, status=error.status)

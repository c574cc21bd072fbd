"""Races: many clients doing the same thing at once."""

from concurrent.futures import ThreadPoolExecutor

from tests.helpers import patient_post, random_user


def parallel_signups(base_url, bodies):
    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(lambda body: patient_post(base_url + "/auth/signup", body), bodies))


def test_twenty_parallel_signups_of_one_name_make_one_user(base_url, api):
    fields = random_user()
    bodies = [{**fields, "email": f"{i}-{fields['email']}"} for i in range(20)]
    statuses = sorted(r.status_code for r in parallel_signups(base_url, bodies))
    assert statuses == [201] + [409] * 19
    assert api.login(fields["username"], fields["password"])


def test_look_alike_names_in_parallel_make_one_user(base_url):
    name = random_user()["username"]
    spellings = [
        name,
        name.upper(),
        name.capitalize(),
        "".join(chr(ord(c) + 0xFEE0) if c.isalpha() else c for c in name),
    ]
    bodies = [{**random_user(), "username": spellings[i % len(spellings)]} for i in range(20)]
    responses = parallel_signups(base_url, bodies)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19
    assert {r.json()["error"] for r in responses if r.status_code == 409} == {"username_taken"}


def test_twenty_parallel_signups_of_one_email_make_one_user(base_url):
    email = random_user()["email"]
    bodies = [{**random_user(), "email": email.upper() if i % 2 else email} for i in range(20)]
    responses = parallel_signups(base_url, bodies)
    assert sorted(r.status_code for r in responses) == [201] + [409] * 19

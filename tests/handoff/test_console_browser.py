"""The agent console in a real browser (Debian's headless Chromium driven by Selenium), against
real processes: Rasa server, action server and handoff service (the package's ``stack``).

A customer on the socket.io channel, identified by the website widget's metadata, asks where
their order is and then for a person. An agent logs into ``/console``, finds the conversation in
the queue with its reason and wait, sees reason, transcript and profile (with provenance) on one
screen, accepts, replies and writes an internal note the customer never receives; the
customer's next line appears live. A second agent cannot take the conversation; the first hands
it back and the bot answers again. A second conversation is closed with a disposition, and a
wrong password is refused on the login form.

Selenium is synchronous: every browser step runs in a worker thread (``asyncio.to_thread``) so
the customers' socket.io clients keep running on the event loop meanwhile. What the browser
shows is checked with ``WebDriverWait`` conditions; the handoff service's HTTP API is used only
as the oracle (which conversation belongs to which customer, who owns it) and to leave nothing
open behind.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.handoff.live import AGENTS, AMELIA, ASK_FOR_AGENT, Customer

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1400,1000",
)
WAIT_S = 20.0

T = TypeVar("T")


async def ui(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking browser step off the event loop."""
    return await asyncio.to_thread(fn, *args)


# -- the browser ----------------------------------------------------------------------------------


def start_chromium() -> webdriver.Chrome:
    """Debian's Chromium and chromedriver; never a downloaded browser or driver."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not installed: run scripts/install.sh --browser", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


@pytest.fixture
def browsers(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], webdriver.Chrome]]:
    """Start browsers on demand (each one a separate agent session); all are quit afterwards."""
    monkeypatch.setenv("SE_AVOID_STATS", "true")
    started: list[webdriver.Chrome] = []

    def start() -> webdriver.Chrome:
        driver = start_chromium()
        started.append(driver)
        return driver

    yield start
    for driver in started:
        driver.quit()


class Console:
    """The console page in one browser: blocking steps, each waiting for what the agent would see."""

    def __init__(self, driver: webdriver.Chrome, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url.rstrip("/")

    def wait(self, condition: Callable[[webdriver.Chrome], T], what: str, timeout: float = WAIT_S) -> T:
        waiter = WebDriverWait(self.driver, timeout, poll_frequency=0.1,
                               ignored_exceptions=(StaleElementReferenceException,))
        try:
            return waiter.until(condition, f"console did not show: {what}")
        except WebDriverException as exc:
            raise AssertionError(f"{exc.msg}\n--- the page said:\n{self.page_text()}") from None

    def page_text(self) -> str:
        return str(self.driver.execute_script("return document.body.innerText"))[:4000]

    def by_id(self, element_id: str) -> WebElement:
        return self.driver.find_element(By.ID, element_id)

    def text_of(self, element_id: str) -> str:
        return self.by_id(element_id).text

    # -- login -----------------------------------------------------------------------------------

    def open(self) -> None:
        self.driver.get(f"{self.base_url}/console")
        self.wait(lambda d: self.by_id("login-form").is_displayed(), "the login form")
        # set once: if the page reloads, this marker is gone (live updates must need no reload)
        self.driver.execute_script("window.tandemSameDocument = true")

    def submit_login(self, name: str, password: str) -> None:
        for field, value in (("login-name", name), ("login-password", password)):
            self.by_id(field).clear()
            self.by_id(field).send_keys(value)
        self.by_id("login-submit").click()

    def log_in(self, name: str, password: str) -> None:
        self.open()
        self.submit_login(name, password)
        self.wait(lambda d: self.by_id("console").is_displayed() and self.text_of("link-state") == "live",
                  f"the console of {name}, live")
        assert self.text_of("me") == name

    def same_document(self) -> bool:
        return bool(self.driver.execute_script("return window.tandemSameDocument === true"))

    # -- queue -----------------------------------------------------------------------------------

    def queue_item(self, conv_id: int) -> str:
        """The queue entry's text, once it is listed."""
        return self.wait(lambda d: self._queue_text(conv_id), f"conversation {conv_id} in the queue")

    def _queue_text(self, conv_id: int) -> str | None:
        found = self.driver.find_elements(By.CSS_SELECTOR, f'#queue li[data-id="{conv_id}"]')
        return found[0].text if found else None

    def queue_item_classes(self, conv_id: int) -> list[str]:
        item = self.driver.find_element(By.CSS_SELECTOR, f'#queue li[data-id="{conv_id}"]')
        return (item.get_attribute("class") or "").split()

    def wait_queue_item(self, conv_id: int, check: Callable[[str], bool], what: str) -> str:
        def ready(_d: Any) -> str | None:
            text = self._queue_text(conv_id)
            return text if text is not None and check(text) else None

        return self.wait(ready, f"conversation {conv_id} in the queue {what}")

    def wait_not_queued(self, conv_id: int) -> None:
        self.wait(lambda d: self._queue_text(conv_id) is None, f"conversation {conv_id} gone from the queue")

    def select(self, conv_id: int, title: str) -> None:
        """Click the conversation in the queue (re-rendered live, hence the retry) until it shows."""

        def clicked(_d: Any) -> bool:
            self.driver.find_element(By.CSS_SELECTOR, f'#queue li[data-id="{conv_id}"]').click()
            return True

        self.wait(clicked, f"a clickable queue entry for conversation {conv_id}")
        self.wait(lambda d: self.by_id("detail-body").is_displayed() and self.text_of("d-title") == title,
                  f"the detail of conversation {conv_id} titled {title!r}")

    # -- the selected conversation ---------------------------------------------------------------

    def transcript(self) -> list[tuple[str, str]]:
        """(kind, text) of every transcript line, as shown."""
        rows = self.driver.execute_script(
            "return [...document.querySelectorAll('#transcript li')]"
            ".map(li => [li.className, li.lastChild ? li.lastChild.textContent : ''])"
        )
        return [(str(kind), str(text)) for kind, text in rows]

    def wait_transcript(self, check: Callable[[list[tuple[str, str]]], bool], what: str) -> list[tuple[str, str]]:
        def ready(_d: Any) -> list[tuple[str, str]] | None:
            lines = self.transcript()
            return lines if check(lines) else None

        return self.wait(ready, f"the transcript {what}")

    def delay_live_events(self, seconds: float) -> None:
        """Hold back what the page's WebSocket receives by ``seconds``, counting what is delivered."""
        self.driver.execute_script(
            """
            const ws = state.ws, deliver = ws.onmessage, ms = arguments[0] * 1000;
            window.tandemDeliveredLate = 0;
            ws.onmessage = (ev) => setTimeout(() => {
              deliver(ev);
              if (ev.data !== "pong") window.tandemDeliveredLate += 1;
            }, ms);
            window.tandemOnTime = () => { ws.onmessage = deliver; };
            """,
            seconds,
        )

    def delivered_late(self) -> int:
        """Live events delivered late so far, once the reloads they caused have finished."""
        return int(self.driver.execute_script("return state.loading ? 0 : window.tandemDeliveredLate"))

    def deliver_live_events_on_time(self) -> None:
        self.driver.execute_script("window.tandemOnTime()")

    def notes(self) -> list[str]:
        return [li.text for li in self.driver.find_elements(By.CSS_SELECTOR, "#notes li")]

    def enabled(self, button_id: str) -> bool:
        return self.by_id(button_id).is_enabled()

    def buttons(self) -> dict[str, bool]:
        """Which buttons are enabled, read in one script call (one consistent moment of the page)."""
        ids = ["accept", "send", "add-note", "transfer", "handback", "close"]
        return self.driver.execute_script(
            "return Object.fromEntries(arguments[0].map((id) => [id, !document.getElementById(id).disabled]));", ids)

    def wait_buttons(self, ready: Callable[[dict[str, bool]], bool], what: str) -> dict[str, bool]:
        """The buttons once ``ready`` holds: after an action the page re-enables them only when the
        server has answered the request, which can come after the WebSocket's news of the change."""
        return self.wait(lambda d: (lambda b: b if ready(b) else False)(self.buttons()), what)

    def click(self, button_id: str) -> None:
        self.wait(lambda d: self.enabled(button_id), f"the {button_id} button enabled")
        self.by_id(button_id).click()

    def type_reply(self, text: str) -> None:
        box = self.by_id("reply-text")
        box.clear()
        box.send_keys(text)

    def wait_status(self, fragment: str) -> str:
        return self.wait(lambda d: fragment in self.text_of("d-status") and self.text_of("d-status"),
                         f"status containing {fragment!r}")

    def wait_error(self, fragment: str) -> str:
        return self.wait(lambda d: fragment in self.text_of("action-error") and self.text_of("action-error"),
                         f"an error containing {fragment!r}")


# -- the service's API, as the test's oracle ----------------------------------------------------------


class Oracle:
    """The handoff service's HTTP API as one agent: where the test reads the truth behind the page."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str, agent: str) -> None:
        self.http, self.base, self.agent = http, base_url.rstrip("/"), agent
        self.headers: dict[str, str] = {}

    async def login(self) -> Oracle:
        body = {"name": self.agent, "password": AGENTS[self.agent]}
        async with self.http.post(f"{self.base}/api/login", json=body) as r:
            assert r.status == 200, await r.text()
            self.headers = {"Authorization": f"Bearer {(await r.json())['token']}"}
        return self

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        async with self.http.request(method, f"{self.base}{path}", json=body, headers=self.headers) as r:
            assert r.status == 200, f"{method} {path}: {r.status} {await r.text()}"
            return await r.json()

    async def conversation_of(self, customer: Customer, timeout: float = 30) -> dict[str, Any]:
        """The active conversation of ``customer`` once the service has queued it."""
        async def queued() -> dict[str, Any]:
            while True:
                for conv in (await self.call("GET", "/api/queue"))["conversations"]:
                    if conv["sender_id"] == customer.session_id:
                        return conv
                await asyncio.sleep(0.1)

        return await asyncio.wait_for(queued(), timeout)

    async def wait_transcript(self, conv_id: int, fragment: str, timeout: float = 20) -> None:
        """Until the conversation's transcript (Rasa's tracker, as the service reads it) holds ``fragment``."""
        async def recorded() -> None:
            while True:
                detail = await self.call("GET", f"/api/conversations/{conv_id}")
                if any(fragment in line["text"] for line in detail["transcript"]):
                    return
                await asyncio.sleep(0.05)

        await asyncio.wait_for(recorded(), timeout)

    async def conversation(self, conv_id: int) -> dict[str, Any]:
        return (await self.call("GET", f"/api/conversations/{conv_id}"))["conversation"]

    async def leave_nothing_open(self, conv_ids: list[int]) -> None:
        """Close what a failed test left waiting or assigned (other tests count the queue)."""
        for conv_id in conv_ids:
            conv = await self.conversation(conv_id)
            if conv["status"] == "waiting":
                conv = (await self.call("POST", f"/api/conversations/{conv_id}/accept"))["conversation"]
            if conv["status"] == "assigned" and conv["agent"] == self.agent:
                await self.call("POST", f"/api/conversations/{conv_id}/close", {"disposition": "not_resolved"})


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


def count(lines: list[tuple[str, str]], kind: str, fragment: str) -> int:
    return sum(1 for k, text in lines if k == kind and fragment in text)


# -- the tests --------------------------------------------------------------------------------------


async def test_an_agent_serves_a_customer_in_the_console(
    stack: Any, browsers: Callable[[], webdriver.Chrome], http: aiohttp.ClientSession
) -> None:
    settings = stack.settings
    oracle = await Oracle(http, settings.handoff_url, "alice").login()
    alice = Console(await ui(browsers), settings.handoff_url)
    await ui(alice.log_in, "alice", AGENTS["alice"])

    amelia = await Customer(settings, AMELIA).connect()
    opened: list[int] = []
    try:
        # 1. an identified customer asks about her order (a ProfileAction identifies her from the
        #    widget's metadata), then asks for a person
        await amelia.say("where is my order")
        await amelia.expect("4000000101")  # her dispatched order, found in her profile
        await amelia.say(ASK_FOR_AGENT)
        await amelia.expect("queue")
        conv = await oracle.conversation_of(amelia)
        cid = conv["id"]
        opened.append(cid)
        # named as the profile (and the side pane) name her, by the service, not by the bot's slots
        assert conv["customer_name"] == "Amelia Hart" and conv["customer_id"], conv

        # 2. the queue shows her with the channel, her first words, the reason and how long she has waited
        item = await ui(alice.queue_item, cid)
        assert "Amelia Hart" in item and conv["reason"] in item and re.search(r"waiting \d+(s|m)", item), item
        assert "web chat" in item and "“where is my order”" in item, item
        assert "waiting" in await ui(alice.queue_item_classes, cid)

        # reason, transcript from the Rasa tracker and profile with provenance on one screen
        await ui(alice.select, cid, "Amelia Hart")
        assert await ui(alice.text_of, "d-reason") == conv["reason"]
        lines = await ui(alice.wait_transcript, lambda ls: count(ls, "customer", "where is my order") == 1,
                         "with the customer's question")
        assert count(lines, "bot", "4000000101") >= 1, lines  # the bot's answer before the handoff
        profile = await ui(alice.text_of, "profile")
        assert "Amelia Hart" in profile and "amelia.hart@example.com" in profile, profile
        assert "4000000101" in profile, profile  # her open order
        assert "from crm" in profile and "from commerce" in profile, profile  # where each value comes from
        buttons = await ui(alice.buttons)
        assert buttons["accept"] and not (buttons["send"] or buttons["handback"] or buttons["close"]), buttons

        # accept: the customer is greeted by name of the agent, the console shows who owns it
        await ui(alice.click, "accept")
        await amelia.expect("this is Alice")
        await ui(alice.wait_status, "assigned (alice)")
        lines = await ui(alice.wait_transcript, lambda ls: count(ls, "agent", "this is Alice") >= 1, "with the greeting")
        await ui(alice.wait_buttons, lambda b: not b["accept"] and b["send"] and b["handback"] and b["close"],
                 "send, hand back and close enabled for the conversation alice accepted")
        assert (await oracle.conversation(cid))["agent"] == "alice"

        # 3. a reply reaches the customer's socket and the transcript
        reply = "I'm sorry it's late, Amelia. I'm checking with DPD now."
        await ui(alice.type_reply, reply)
        await ui(alice.click, "send")
        await amelia.expect("checking with DPD")
        await ui(alice.wait_transcript, lambda ls: count(ls, "agent", reply) == 1, "with the reply, once")
        assert await ui(alice.text_of, "reply-text") == ""

        # an internal note: in the console's notes, never sent to the customer
        note = "Parcel scanned at the Leeds depot yesterday; chase DPD before promising a date."
        await ui(alice.type_reply, note)
        await ui(alice.click, "add-note")
        await ui(alice.wait, lambda d: any(note in n for n in alice.notes()), "the internal note")
        assert count(await ui(alice.transcript), "agent", note) == 0

        # 4. the customer writes again: the line appears live, without a reload
        await amelia.say("It's a birthday present, it has to be there by Friday")
        await ui(alice.wait_transcript, lambda ls: count(ls, "customer", "birthday present") == 1,
                 "with the customer's new line")
        assert await ui(alice.same_document), "the console reloaded the page"
        # every line is shown exactly once (the tracker and the live feed overlap after accept)
        lines = await ui(alice.transcript)
        assert count(lines, "agent", "this is Alice") == 1, lines
        assert count(lines, "agent", reply) == 1, lines

        # live events can arrive after a reload that already holds them (a slow link, a busy service):
        # hold alice's back, let the customer write, reload by clicking the conversation, then deliver
        await ui(alice.delay_live_events, 2.0)
        await amelia.say("Could you send the new one to my office instead?")
        await oracle.wait_transcript(cid, "to my office")
        await ui(alice.select, cid, "Amelia Hart")
        await ui(alice.wait_transcript, lambda ls: count(ls, "customer", "to my office") == 1, "after the reload")
        await ui(alice.wait, lambda d: alice.delivered_late() >= 1, "the late live events delivered")
        lines = await ui(alice.wait_transcript, lambda ls: True, "settled")
        assert count(lines, "customer", "to my office") == 1, lines
        await ui(alice.deliver_live_events_on_time)

        # 5. another agent does not see it once alice has it (agents see only what is theirs):
        #    not in his queue, and his session can neither read it nor take it
        bob = Console(await ui(browsers), settings.handoff_url)
        await ui(bob.log_in, "bob", AGENTS["bob"])
        await ui(bob.wait, lambda d: d.find_element(By.ID, "link-state").text == "live", "bob's console live")
        await ui(bob.wait_not_queued, cid)
        token = await ui(bob.driver.execute_script, "return sessionStorage.getItem('tandem.token')")
        bobs = {"Authorization": f"Bearer {token}"}
        async with http.get(f"{settings.handoff_url}/api/conversations/{cid}", headers=bobs) as r:
            assert r.status == 403, await r.text()
        async with http.post(f"{settings.handoff_url}/api/conversations/{cid}/accept", headers=bobs) as r:
            assert r.status == 409 and "already assigned" in (await r.json())["message"]
        assert (await oracle.conversation(cid))["agent"] == "alice"

        # 6. hand back: the customer hears it, the bot answers again, both queues drop it
        await ui(alice.click, "handback")
        await amelia.expect("passed you back to the virtual assistant")
        await ui(alice.wait_status, "handed_back")
        await ui(alice.wait_not_queued, cid)
        await ui(bob.wait_not_queued, cid)
        buttons = await ui(alice.buttons)
        assert not (buttons["accept"] or buttons["send"] or buttons["handback"] or buttons["close"]), buttons
        await amelia.say("/greet")
        answer = await amelia.expect("virtual assistant")
        assert "I can help with" in answer["text"]
        assert not any(note in (m.get("text") or "") for m in amelia.received), "the internal note reached the customer"
        assert (await oracle.conversation(cid))["status"] == "handed_back"

        # a second, unidentified customer: accepted and closed with a disposition
        guest = await Customer(settings).connect()
        try:
            await guest.say("hello, I have a question")
            await guest.expect("")
            await guest.say(ASK_FOR_AGENT)
            await guest.expect("queue")
            second = (await oracle.conversation_of(guest))["id"]
            opened.append(second)
            # told apart from other unidentified customers by channel, first words and wait
            item = await ui(alice.queue_item, second)
            assert "Unidentified, web chat" in item and "“hello, I have a question”" in item, item
            assert re.search(r"waiting \d+(s|m)", item), item
            await ui(alice.select, second, "Unidentified, web chat")
            assert "not identified" in await ui(alice.text_of, "profile")
            await ui(alice.click, "accept")
            await guest.expect("this is Alice")
            await ui(Select(alice.by_id("disposition")).select_by_value, "follow_up")
            await ui(alice.click, "close")
            await guest.expect("closed this conversation")
            await ui(alice.wait_status, "closed")
            await ui(alice.wait_not_queued, second)
            closed = await oracle.conversation(second)
            assert (closed["status"], closed["disposition"]) == ("closed", "follow_up")
        finally:
            await guest.disconnect()
        assert await ui(alice.same_document), "the console reloaded the page"
    finally:
        await amelia.disconnect()
        await oracle.leave_nothing_open(opened)


async def test_a_wrong_password_is_refused_on_the_login_form(
    stack: Any, browsers: Callable[[], webdriver.Chrome]
) -> None:
    console = Console(await ui(browsers), stack.settings.handoff_url)
    await ui(console.open)
    await ui(console.submit_login, "alice", "not-" + AGENTS["alice"])
    error = await ui(console.wait, lambda d: console.text_of("login-error"), "a login error")
    assert "wrong password" in error, error
    assert await ui(console.by_id("login-error").is_displayed)
    assert not await ui(console.by_id("console").is_displayed)

    await ui(console.submit_login, "alice", AGENTS["alice"])
    await ui(console.wait, lambda d: console.by_id("console").is_displayed(), "the console after a good password")
    assert await ui(console.text_of, "login-error") == ""

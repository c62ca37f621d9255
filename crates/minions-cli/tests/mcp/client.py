"""An MCP client we did not write (the official `mcp` Python SDK) driving
`minions mcp`, for crates/minions-cli/tests/mcp.rs.

Usage: client.py stdio MINIONS_BINARY DOC OUTSIDE ROOT
       client.py http URL DOC OUTSIDE TOKEN
       client.py nokey MINIONS_BINARY

(nokey: a server started without the remote's key; it lists the tools,
reads the instructions and asks once.)

It lists the tools, asks a question over DOC with progress, asks over
OUTSIDE (which must be refused), estimates inline text, and prints one JSON
object with what it saw on stdout.
"""

import asyncio
import json
import os
import sys
from pathlib import Path

import anyio
import httpx2
from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client


def text_of(result):
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


async def exercise(session, doc, outside):
    seen = {}
    await session.initialize()
    tools = await session.list_tools()
    seen["tools"] = {t.name: t.input_schema for t in tools.tools}
    progress = []

    async def on_progress(done, total, message):
        progress.append({"progress": done, "message": message})

    answer = await session.call_tool(
        "ask",
        {"question": "What is the LDL cholesterol value?", "paths": [doc], "options": {"max_rounds": 2}},
        progress_callback=on_progress,
    )
    seen["ask"] = {"is_error": bool(answer.is_error), "text": text_of(answer), "structured": answer.structured_content}
    seen["progress"] = progress
    refused = await session.call_tool("ask", {"question": "What is in it?", "paths": [outside]})
    seen["outside"] = {"is_error": bool(refused.is_error), "text": text_of(refused)}
    bad = await session.call_tool("ask", {"question": "q", "documents": [{"name": "a", "text": "b"}], "options": {"max_rounds": 0}})
    seen["bad_option"] = {"is_error": bool(bad.is_error), "text": text_of(bad)}
    estimate = await session.call_tool("estimate", {"documents": [{"name": "note.txt", "text": "one two three four"}]})
    seen["estimate"] = {"is_error": bool(estimate.is_error), "structured": estimate.structured_content}
    # Cancel a slow run after a moment, then stay connected: the server must
    # stop the run itself, not because the client went away.
    slow = "".join(f"Line {n} of the slow document, with nothing to find.\n" for n in range(600))
    with anyio.move_on_after(1.5) as scope:
        await session.call_tool(
            "ask",
            {"question": "What is the LDL?", "documents": [{"name": "slow.txt", "text": slow}], "options": {"local_concurrency": 1}},
        )
    seen["cancelled"] = scope.cancelled_caught
    await anyio.sleep(6)
    after = await session.call_tool("estimate", {"documents": [{"name": "n.txt", "text": "still here"}]})
    seen["after_cancel"] = {"is_error": bool(after.is_error)}
    return seen


def server_env():
    return {k: v for k, v in os.environ.items() if k.startswith(("MINIONS_", "OPENAI_", "OLLAMA_", "ANTHROPIC_", "HOME", "NO_COLOR"))}


async def without_key(target):
    params = StdioServerParameters(command=target, args=["mcp"], env=server_env())
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            tools = await session.list_tools()
            answer = await session.call_tool("ask", {"question": "What is it?", "documents": [{"name": "a.txt", "text": "some text"}]})
            return {
                "instructions": init.instructions or "",
                "tools": [t.name for t in tools.tools],
                "ask": {"is_error": bool(answer.is_error), "text": text_of(answer)},
            }


async def main():
    if sys.argv[1] == "nokey":
        print(json.dumps(await without_key(sys.argv[2])))
        return
    mode, target, doc, outside, extra = sys.argv[1:6]
    if mode == "stdio":
        env = server_env()
        params = StdioServerParameters(command=target, args=["mcp"], env=env)
        root = Path(extra).resolve().as_uri()

        async def list_roots(context):
            return types.ListRootsResult(roots=[types.Root(uri=root, name="scratch")])

        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write, list_roots_callback=list_roots) as session:
                seen = await exercise(session, doc, outside)
    else:
        client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {extra}"}, timeout=120)
        async with client:
            async with streamable_http_client(target, http_client=client) as streams:
                read, write = streams[0], streams[1]
                async with ClientSession(read, write) as session:
                    seen = await exercise(session, doc, outside)
    print(json.dumps(seen))


asyncio.run(main())

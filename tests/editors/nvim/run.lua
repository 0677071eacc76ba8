-- The headless Neovim test: the plugin in editors/nvim, set up as a user would, against the real
-- `mil lsp`. Opens a copy of a sample and checks that diagnostics arrive, that hover on an op shows
-- its signature (and the device it runs on), that a quick fix chosen through vim.lsp.buf.code_action
-- rewrites the line, that :MilPlacement shows the placement, that :MilCompile writes a package, that
-- :MilRun shows the outputs' statistics and that :MilDecompile opens its text.
-- Each check is written to $MIL_RESULTS as {name, ok, detail}; Neovim then quits.
local env = vim.env
local results = {}

local function record(name, ok, detail)
  table.insert(results, { name = name, ok = ok and true or false, detail = detail or "" })
end

local function finish()
  local ok, err = pcall(function()
    local f = assert(io.open(env.MIL_RESULTS, "w"))
    f:write(vim.fn.json_encode(results))
    f:close()
  end)
  if not ok then
    io.stderr:write("cannot write the results: " .. tostring(err) .. "\n")
    vim.cmd("cquit!")
  end
  vim.cmd("qa!")
end

local function find(buf, pattern)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    local col = line:find(pattern)
    if col then
      return i, col - 1
    end
  end
end

local function floats()
  local out = {}
  for _, w in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(w).relative ~= "" then
      table.insert(out, w)
    end
  end
  return out
end

local function run()
  local mil = require("mil")
  mil.setup({ cmd = { env.MIL_BIN, "lsp" } })
  local file = env.MIL_WORK .. "/" .. vim.fn.fnamemodify(env.MIL_SAMPLE, ":t")
  vim.fn.writefile(vim.fn.readfile(env.MIL_SAMPLE, "b"), file, "b")
  vim.cmd("edit " .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  record("filetype", vim.bo[buf].filetype == "mil", "filetype=" .. vim.bo[buf].filetype)

  local attached = vim.wait(15000, function()
    local c = mil.client(buf)
    return c ~= nil and c.initialized ~= false and c.server_capabilities ~= nil
  end, 50)
  record("attach", attached, attached and ("client " .. mil.client(buf).name) or "no mil client attached")
  if not attached then
    return
  end

  local arrived = vim.wait(15000, function()
    return #vim.diagnostic.get(buf) > 0
  end, 50)
  local codes = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(codes, (d.code or "?") .. "@" .. (d.lnum + 1))
  end
  record("diagnostics", arrived, #codes .. " diagnostics: " .. table.concat(codes, " "))

  -- Hover through the user's path: the cursor on an op, vim.lsp.buf.hover(), the floating window.
  local line, col = find(buf, "reduce_mean")
  vim.api.nvim_win_set_cursor(0, { line, col + 2 })
  vim.lsp.buf.hover()
  local shown = vim.wait(10000, function()
    return #floats() > 0
  end, 50)
  local text = ""
  if shown then
    local fbuf = vim.api.nvim_win_get_buf(floats()[1])
    text = table.concat(vim.api.nvim_buf_get_lines(fbuf, 0, -1, false), "\n")
  end
  record("hover", text:find("reduce_mean", 1, true) ~= nil, vim.fn.strcharpart(text:gsub("%s+", " "), 0, 300))
  local device = text:match("%f[%w](ANE)%f[%W]") or text:match("(Neural Engine)") or text:match("%f[%w](GPU)%f[%W]")
    or text:match("%f[%w](CPU)%f[%W]")
  record("hover-device", device ~= nil, device and ("device in hover: " .. device) or "the hover names no device")
  for _, w in ipairs(floats()) do
    vim.api.nvim_win_close(w, true)
  end

  -- A quick fix through vim.lsp.buf.code_action(), choosing it in vim.ui.select as a user would.
  -- The cursor on the squiggle of the positional argument, as a user would put it.
  line = find(buf, "rsqrt%(")
  local col = 0
  for _, d in ipairs(vim.diagnostic.get(buf, { lnum = line - 1 })) do
    col = d.col
  end
  vim.api.nvim_win_set_cursor(0, { line, col })
  local offered = {}
  vim.ui.select = function(items, opts, on_choice)
    for _, item in ipairs(items) do
      local action = item.action or item[2]
      table.insert(offered, action.title)
      if action.title:find("argument keys", 1, true) then
        return on_choice(item)
      end
    end
    on_choice(nil)
  end
  vim.lsp.buf.code_action()
  local fixed = vim.wait(10000, function()
    return vim.api.nvim_buf_get_lines(buf, line - 1, line, false)[1]:find("rsqrt(x = ms_eps)", 1, true) ~= nil
  end, 50)
  local after = vim.api.nvim_buf_get_lines(buf, line - 1, line, false)[1]
  record("code-action", fixed, "offered: " .. table.concat(offered, "; ") .. " | line now: " .. vim.trim(after))

  -- :MilPlacement: the placement table in a split.
  vim.cmd("MilPlacement")
  local table_text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  local summary = table_text:match("[^\n]*on the ANE[^\n]*")
  record("placement", summary ~= nil, summary or table_text:sub(1, 200))
  vim.cmd("close")

  -- :MilCompile: the package appears in the output folder.
  vim.api.nvim_set_current_buf(buf)
  local messages = {}
  vim.notify = function(msg)
    table.insert(messages, msg)
  end
  vim.cmd("MilCompile")
  local packages = {}
  vim.wait(30000, function()
    packages = vim.fn.glob(env.MIL_WORK .. "/build/*.mlpackage", false, true)
    return #packages > 0 or #messages > 0
  end, 100)
  vim.wait(3000, function()
    packages = vim.fn.glob(env.MIL_WORK .. "/build/*.mlpackage", false, true)
    return #packages > 0
  end, 100)
  local detail = #packages > 0 and ("wrote " .. packages[1]) or "no package; " .. table.concat(messages, " | ")
  record("compile", #packages > 0, detail)
  -- What :MilCompile says is a sentence naming the package, not a Lua table.
  vim.wait(3000, function()
    return vim.tbl_contains(messages, "mil: compiled " .. (packages[1] or ""))
  end, 100)
  local said = table.concat(messages, " | ")
  local readable = #packages > 0
    and vim.tbl_contains(messages, "mil: compiled " .. packages[1])
    and not said:find("{", 1, true)
  record("compile-message", readable, said)

  -- :MilRun: the server's mil.run on random inputs, its table shown.
  messages = {}
  vim.cmd("MilRun 0")
  vim.wait(30000, function()
    return #messages > 0
  end, 100)
  said = table.concat(messages, " | ")
  record("run", said:find("ran main in", 1, true) ~= nil and said:find("non-finite", 1, true) ~= nil, said)

  -- :MilDecompile: the package back into MIL text, opened in a buffer.
  if #packages == 0 then
    return record("decompile", false, "no package to decompile")
  end
  vim.cmd("MilDecompile " .. vim.fn.fnameescape(packages[1]))
  local dbuf = vim.api.nvim_get_current_buf()
  local text = table.concat(vim.api.nvim_buf_get_lines(dbuf, 0, -1, false), "\n")
  local ok = dbuf ~= buf and vim.bo[dbuf].filetype == "mil" and text:find("rsqrt(x = ms_eps)", 1, true) ~= nil
  record("decompile", ok, vim.api.nvim_buf_get_name(dbuf) .. ": " .. vim.fn.strcharpart(text:gsub("%s+", " "), 0, 200))
end

local ok, err = xpcall(run, debug.traceback)
if not ok then
  record("harness", false, err)
end
finish()

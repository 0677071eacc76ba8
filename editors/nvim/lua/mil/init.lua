-- MIL for Neovim: starts `mil lsp` for MIL buffers (vim.lsp.start on 0.8+, vim.lsp.start_client
-- on 0.7) and adds :MilCompile, :MilRun, :MilPlacement, :MilDecompile and :MilW8A8. What the server does not offer
-- (placement tables, decompiling, compiling before the server has `mil.compile`) runs the `mil`
-- command line.
--
--   require("mil").setup({
--     cmd = { "mil", "lsp" },          -- the server; `mil` is looked up on PATH
--     compile_on_save = false,         -- the server compiles each saved file
--     settings = { chip = "m4", computeUnits = "cpu_and_ne", outputFolder = "build" },
--   })
local M = {}

local defaults = {
  cmd = nil, -- { "mil", "lsp" } with `mil` from PATH
  root_markers = { "mil.toml", ".git" },
  compile_on_save = false,
  settings = {
    deploymentTarget = "ios18",
    chip = "m4",
    computeUnits = "cpu_and_ne",
    outputFolder = "build",
    inlayHints = { device = true, parameterNames = true },
  },
  on_attach = nil,
  capabilities = nil,
}

M.config = vim.deepcopy(defaults)

-- Clients started on 0.7, by root folder (0.8's vim.lsp.start reuses clients itself).
local clients = {}

local function notify(msg, level)
  vim.notify("mil: " .. msg, level or vim.log.levels.INFO)
end

--- The server command: `cmd` from setup, else `mil lsp` with `mil` found on PATH.
function M.server_cmd()
  if M.config.cmd then
    return M.config.cmd
  end
  local bin = vim.fn.exepath("mil")
  if bin == "" then
    return nil
  end
  return { bin, "lsp" }
end

--- The binary of the server command (for the command-line tools).
local function binary()
  local cmd = M.server_cmd()
  return cmd and cmd[1]
end

--- The folder of the nearest root marker above the buffer's file, else the file's folder.
local function root_dir(bufnr)
  local file = vim.api.nvim_buf_get_name(bufnr)
  local dir = file ~= "" and vim.fn.fnamemodify(file, ":p:h") or vim.fn.getcwd()
  for _, marker in ipairs(M.config.root_markers) do
    local f = vim.fn.findfile(marker, dir .. ";")
    if f ~= "" then
      return vim.fn.fnamemodify(f, ":p:h")
    end
    local d = vim.fn.finddir(marker, dir .. ";")
    if d ~= "" then
      return vim.fn.fnamemodify(d, ":p:h:h") -- ":p" of a folder ends in "/"
    end
  end
  return dir
end

local function server_settings()
  local s = vim.deepcopy(M.config.settings)
  s.compileOnSave = M.config.compile_on_save
  return { mil = s }
end

--- Starts (or reuses) the server for `bufnr` and attaches it.
function M.start(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local cmd = M.server_cmd()
  if not cmd then
    notify("`mil` was not found on PATH; pass cmd = { '/path/to/mil', 'lsp' } to setup()", vim.log.levels.ERROR)
    return nil
  end
  local config = {
    name = "mil",
    cmd = cmd,
    root_dir = root_dir(bufnr),
    init_options = server_settings(),
    settings = server_settings(),
    on_attach = M.config.on_attach,
    capabilities = M.config.capabilities,
  }
  if vim.lsp.start then
    return vim.lsp.start(config, { bufnr = bufnr })
  end
  local id = clients[config.root_dir]
  if not id or vim.lsp.get_client_by_id(id) == nil or vim.lsp.client_is_stopped(id) then
    id = vim.lsp.start_client(config)
    clients[config.root_dir] = id
  end
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end

--- The mil client attached to `bufnr`.
function M.client(bufnr)
  for _, c in pairs(vim.lsp.buf_get_clients(bufnr or 0)) do
    if c.name == "mil" then
      return c
    end
  end
  return nil
end

--- The output folder (settings.outputFolder) inside the buffer's root folder.
local function output_folder(bufnr)
  local out = M.config.settings.outputFolder or "build"
  if out:sub(1, 1) == "/" then
    return out
  end
  return root_dir(bufnr) .. "/" .. out
end

--- Compiles the buffer (saved first): the server's `mil.compile` when it offers it, else
--- `mil compile FILE -o OUTPUT/NAME.mlpackage`. `done(err, result)` gets the outcome.
function M.compile(bufnr, done)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local finish = function(err, result)
    if err then
      notify("compile failed: " .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    elseif type(result) == "table" then
      -- The server's answer: { path = ..., message = "compiled PATH" }.
      notify(result.message or ("compiled " .. tostring(result.path)))
    else
      notify("compiled " .. tostring(result))
    end
    if done then
      done(err, result)
    end
  end
  local file = vim.api.nvim_buf_get_name(bufnr)
  if file == "" then
    return finish({ message = "the buffer has no file: save it first" })
  end
  if vim.bo[bufnr].modified then
    vim.api.nvim_buf_call(bufnr, function()
      vim.cmd("silent write")
    end)
  end
  local client = M.client(bufnr)
  local offered = client and ((client.server_capabilities or {}).executeCommandProvider or {}).commands or {}
  if vim.tbl_contains(offered, "mil.compile") then
    local params = { command = "mil.compile", arguments = { vim.uri_from_bufnr(bufnr) } }
    client.request("workspace/executeCommand", params, finish, bufnr)
    return
  end
  local bin = binary()
  if not bin then
    return finish({ message = "`mil` was not found" })
  end
  local target = output_folder(bufnr) .. "/" .. vim.fn.fnamemodify(file, ":t:r") .. ".mlpackage"
  vim.fn.mkdir(vim.fn.fnamemodify(target, ":h"), "p")
  local stderr = {}
  vim.fn.jobstart({ bin, "compile", file, "-o", target }, {
    stderr_buffered = true,
    on_stderr = function(_, data)
      stderr = data
    end,
    on_exit = function(_, code)
      if code == 0 then
        finish(nil, target)
      else
        finish({ message = vim.trim(table.concat(stderr, "\n")) })
      end
    end,
  })
end

local function buffer_text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n") .. "\n"
end

local function scratch(lines, filetype, name)
  vim.cmd("new")
  local buf = vim.api.nvim_get_current_buf()
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].filetype = filetype
  pcall(vim.api.nvim_buf_set_name, buf, name)
  return buf
end

--- Shows `mil placement` of the buffer (one line per op: device, estimate, reason) in a split.
function M.placement(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local bin = binary()
  if not bin then
    return notify("`mil` was not found", vim.log.levels.ERROR)
  end
  -- The settings the server uses for the buffer: these, then the mil.toml nearest above its file.
  local s = M.config.settings
  local cmd = { bin, "placement", "--settings", vim.fn.json_encode({ chip = s.chip, computeUnits = s.computeUnits }) }
  local path = vim.api.nvim_buf_get_name(bufnr)
  if path ~= "" then
    vim.list_extend(cmd, { "--stdin-path", path })
  end
  table.insert(cmd, "-")
  local out = vim.fn.systemlist(cmd, buffer_text(bufnr))
  local name = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ":t")
  return scratch(out, "", "placement of " .. name)
end

--- Runs the buffer's `main` with the server's `mil.run`: `args` are the words of :MilRun, a
--- number (the seed of the inputs made up) and NAME=PATH.npy or PATH.npz inputs. Each output's
--- statistics are shown; `done(err, result)` gets the outcome.
function M.run(bufnr, args, done)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local options = { seed = 0, inputs = {} }
  for _, word in ipairs(args or {}) do
    if word:match("^%d+$") then
      options.seed = tonumber(word)
    else
      table.insert(options.inputs, word)
    end
  end
  local client = M.client(bufnr)
  local offered = client and ((client.server_capabilities or {}).executeCommandProvider or {}).commands or {}
  if not vim.tbl_contains(offered, "mil.run") then
    notify("the server does not offer mil.run", vim.log.levels.ERROR)
    return done and done({ message = "no mil.run" })
  end
  local params = { command = "mil.run", arguments = { vim.uri_from_bufnr(bufnr), options } }
  client.request("workspace/executeCommand", params, function(err, result)
    if err then
      notify("run failed: " .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    else
      notify(result.message .. "\n" .. result.table)
    end
    if done then
      done(err, result)
    end
  end, bufnr)
end

--- Quantises the buffer to W8A8 with the server's `mil.w8a8`, calibrated on `dir` (which becomes
--- settings.calibrationFolder and is sent to the server) or on the folder already set; the server
--- reports progress per sample and says when no folder is set.
function M.w8a8(bufnr, dir, done)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  if not client then
    return notify("the MIL server is not running", vim.log.levels.ERROR)
  end
  if vim.bo[bufnr].modified then
    vim.api.nvim_buf_call(bufnr, function()
      vim.cmd("silent write")
    end)
  end
  if dir and dir ~= "" then
    M.config.settings.calibrationFolder = vim.fn.fnamemodify(dir, ":p")
    client.notify("workspace/didChangeConfiguration", { settings = server_settings() })
  end
  local params = { command = "mil.w8a8", arguments = { vim.uri_from_bufnr(bufnr) } }
  client.request("workspace/executeCommand", params, function(err, result)
    if err then
      notify("w8a8 failed: " .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    else
      notify(result.message or ("wrote " .. tostring(result.path)))
    end
    if done then
      done(err, result)
    end
  end, bufnr)
end

--- Decompiles a .mlpackage (`mil decompile`) into OUTPUT/NAME.decompiled/NAME.mil, its weights
--- beside it, and opens the text.
function M.decompile(package)
  local bin = binary()
  if not bin then
    return notify("`mil` was not found", vim.log.levels.ERROR)
  end
  package = vim.fn.fnamemodify(vim.fn.expand(package), ":p"):gsub("/$", "")
  local name = vim.fn.fnamemodify(package, ":t:r")
  local target = output_folder(vim.api.nvim_get_current_buf()) .. "/" .. name .. ".decompiled/" .. name .. ".mil"
  vim.fn.mkdir(vim.fn.fnamemodify(target, ":h"), "p")
  local out = vim.fn.systemlist({ bin, "decompile", package, "-o", target })
  if vim.v.shell_error ~= 0 then
    return notify("cannot decompile " .. package .. ": " .. table.concat(out, " "), vim.log.levels.ERROR)
  end
  vim.cmd("edit " .. vim.fn.fnameescape(target))
  return vim.api.nvim_get_current_buf()
end

--- Sets the plugin up: options, the FileType autocommand that starts the server, the commands.
function M.setup(opts)
  M.config = vim.tbl_deep_extend("force", vim.deepcopy(defaults), opts or {})
  local group = vim.api.nvim_create_augroup("mil", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = "mil",
    callback = function(args)
      M.start(args.buf)
    end,
  })
  vim.api.nvim_create_user_command("MilCompile", function()
    M.compile()
  end, { desc = "Compile this MIL file to an .mlpackage" })
  vim.api.nvim_create_user_command("MilRun", function(c)
    M.run(nil, c.fargs)
  end, { nargs = "*", complete = "file", desc = "Run this MIL file: [SEED] [NAME=PATH.npy|PATH.npz ...]" })
  vim.api.nvim_create_user_command("MilPlacement", function()
    M.placement()
  end, { desc = "Show where each op of this MIL file runs" })
  vim.api.nvim_create_user_command("MilW8A8", function(c)
    M.w8a8(nil, c.args)
  end, { nargs = "?", complete = "dir", desc = "Quantize this MIL file to W8A8, calibrated on a folder of samples" })
  vim.api.nvim_create_user_command("MilDecompile", function(c)
    M.decompile(c.args)
  end, { nargs = 1, complete = "dir", desc = "Open the MIL text of a .mlpackage" })
  -- Buffers opened before setup() was called.
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.bo[buf].filetype == "mil" then
      M.start(buf)
    end
  end
end

return M

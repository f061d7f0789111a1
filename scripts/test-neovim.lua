-- Neovim's built-in LSP client against `oidc-lint server`: open a bad trust policy and read
-- the diagnostic. Run by scripts/test-neovim.sh: nvim --headless -u NONE -l/ -c 'luafile ...'.
-- Environment: OIDC_LINT (the binary), WORKSPACE (the repository), FILE (the file to open).
local bin, root, file = os.getenv('OIDC_LINT'), os.getenv('WORKSPACE'), os.getenv('FILE')
local function finish(code, msg)
  io.stderr:write(msg .. '\n')
  vim.cmd((code == 0) and 'qall!' or ('cquit ' .. code))
end
vim.cmd('edit ' .. vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
local config = { name = 'oidc-lint', cmd = { bin, 'server' }, root_dir = root }
local client_id
if vim.lsp.start then -- Neovim 0.8+
  client_id = vim.lsp.start(config)
else -- Neovim 0.7
  client_id = vim.lsp.start_client(config)
  vim.lsp.buf_attach_client(buf, client_id)
end
if not client_id then
  finish(1, 'FAIL: the language server did not start')
  return
end
local ok = vim.wait(60000, function()
  return #vim.diagnostic.get(buf) > 0
end, 50)
if not ok then
  finish(1, 'FAIL: no diagnostic for ' .. file .. ' within 60 s')
  return
end
local found = false
for _, d in ipairs(vim.diagnostic.get(buf)) do
  local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
  io.stderr:write(string.format('diagnostic %d:%d %s %s\n', d.lnum + 1, d.col + 1, tostring(code), d.message))
  if code == os.getenv('EXPECT') and d.severity == vim.diagnostic.severity.ERROR then
    found = true
  end
end
if not found then
  finish(1, 'FAIL: no ' .. os.getenv('EXPECT') .. ' error among the diagnostics')
  return
end
-- Stop the server cleanly (shutdown + exit).
vim.lsp.stop_client(client_id)
vim.wait(10000, function() return vim.lsp.get_client_by_id(client_id) == nil end, 50)
finish(0, 'ok: Neovim ' .. tostring(vim.version().major) .. '.' .. tostring(vim.version().minor) .. ' shows ' .. os.getenv('EXPECT'))

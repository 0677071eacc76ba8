-- Editing settings for MIL buffers: `//` comments, four-space indents as the compiler writes.
vim.bo.commentstring = "// %s"
vim.bo.comments = "://"
vim.bo.shiftwidth = 4
vim.bo.expandtab = true

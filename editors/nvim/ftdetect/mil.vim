" MIL text (Core ML's Model Intermediate Language).
autocmd BufRead,BufNewFile *.mil setfiletype mil

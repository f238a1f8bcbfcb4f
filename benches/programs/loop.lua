local function run(n)
  local acc = 0
  for i = 0, n - 1 do
    if i % 3 == 0 then
      acc = acc + i * 2
    else
      acc = acc - 1
    end
  end
  return acc
end
print(run(20000000))

module github.com/OpenCHAMI/quack

go 1.22

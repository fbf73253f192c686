/* eider
description: The Iris setosa rows of iris_dataset
group: iris
*/
SELECT * FROM iris.iris_dataset WHERE species = 'Iris-setosa'
